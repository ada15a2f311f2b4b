"""The demo firm's year as a script: who wrote, called and faxed when, and what staff do today.

Pure and deterministic: the same customers, seed and moment give the same script. Past
events fall in office hours on days counted back from `now` (denser in the last two
weeks); yesterday has missed calls from customers (the morning's call-back tasks), and
one customer complains three times within the churn window (twice by mail, once by fax).
Missed calls before yesterday come from unknown or withheld numbers only, so the team is
not left with a year of call-back tasks nobody would still have open.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, time, timedelta

from hub.demo import firm, texts
from hub.demo.people import Card
from hub.demo.persons import Person, box_number, persons, unknown_numbers
from hub.demo.script import Call, Fax, LiveCall, Mail, Note, Task, Year
from hub.demo.texts import Text

YEAR = 365
RECENT = 14  # days with more going on, so the call list and the tasks are full
CHART = 56  # the dashboard's eight weeks of complaints and praise: more mail, more moods
REGULARS = 60  # customers who carry most of the history
ORDER_FAX_DAYS = (200, 90, 5)  # days ago a customer faxed an order
STRANGER_DAYS = (27, 20, 9, 4)  # days ago someone not yet a customer wrote


def year(people: Sequence[tuple[str, Card]], now: datetime, seed: int = 7) -> Year:
    """The script of the demo firm's last year up to `now` (an aware local time)."""
    script = _Script(persons(people), now, seed)
    for days_ago in range(YEAR, 1, -1):
        script.ordinary_day(days_ago)
    script.at_risk_story()
    script.yesterday()
    script.today()
    return script.done()


class _Script:
    def __init__(self, people: list[Person], now: datetime, seed: int) -> None:
        self.rng = random.Random(seed)
        self.now = now.replace(microsecond=0)
        self.out = Year()
        self.at_risk = next(p for p in people if p.fax)
        others = [p for p in people if p is not self.at_risk]
        self.regulars = self.rng.sample(others, REGULARS)
        self.others = others
        self.unknown = unknown_numbers(people, self.rng)
        self.complained: set[str] = set()
        self.faxed: set[str] = set()
        self.sent = 0

    # -- days ---------------------------------------------------------------------

    def ordinary_day(self, days_ago: int) -> None:
        recent = days_ago <= CHART
        if days_ago <= RECENT:
            mails, calls = 3, 4
        else:
            mails = self.rng.choice((0, 1, 1, 2) if recent else (0, 0, 0, 1, 1))
            calls = self.rng.choice((0, 1, 1, 2))
        for _ in range(mails):
            person = self.customer()
            self.inbound(person, self.at(days_ago), self.text_for(person, recent))
        for _ in range(calls):
            self.ordinary_call(self.at(days_ago))
        if self.rng.random() < 0.07:
            self.offer(self.customer(), self.at(days_ago))
        if days_ago in ORDER_FAX_DAYS:
            self.order_fax(self.at(days_ago), texts.FAX_ORDERS[ORDER_FAX_DAYS.index(days_ago)])
        if days_ago in STRANGER_DAYS:
            self.unknown_sender(days_ago)

    def at_risk_story(self) -> None:
        """A year of quiet business, then three complaints within the churn window."""
        a = self.at_risk
        for days_ago, neutral in ((300, 0), (180, 4), (120, 1), (60, 3)):
            self.inbound(a, self.at(days_ago), texts.NEUTRAL[neutral], reply=True)
        for days_ago in (200, 95, 42, 13, 3):
            self.out.calls.append(self.answered(a.phones[0], self.at(days_ago)))
        self.inbound(a, self.at(41), texts.AT_RISK_MAILS[0], reply=True)
        self.out.mails.append(self.fax(self.at(12), a.fax or "", texts.AT_RISK_FAX))
        self.out.calls.append(self.dialled(a.phones[0], self.at(11), True))
        self.inbound(a, self.at(2), texts.AT_RISK_MAILS[1], reply=True)
        self.out.notes.append(Note(a.contact_id, texts.CALL_NOTES[3]))
        self.out.at_risk = a

    def yesterday(self) -> None:
        """Calls missed yesterday from three customers (and two strangers), some mail."""
        callers = self.yesterdays_callers()
        for person, (hour, minute) in zip(callers, ((11, 47), (13, 5), (15, 30)), strict=True):
            at = self.clock(1, hour, minute)
            self.out.calls.append(missed(person.phones[-1], at))
        self.out.calls.append(missed(self.unknown[0], self.clock(1, 16, 10)))
        self.out.calls.append(missed("", self.clock(1, 16, 55)))
        self.out.calls.append(self.answered(self.customer().phones[0], self.clock(1, 9, 12)))
        self.out.missed_yesterday = callers
        for _ in range(3):
            person = self.customer()
            self.inbound(person, self.at(1), self.text_for(person, True))

    def today(self) -> None:
        """This morning's mail, sipgate calls, and what staff type about them."""
        mobile, landline, unanswered, outbound = self.todays_callers()
        for minutes, neutral in ((95, 2), (40, 6)):
            person = self.customer()
            self.inbound(person, self.now - timedelta(minutes=minutes), texts.NEUTRAL[neutral])
        self.out.live += [
            LiveCall("demo-call-1", mobile.sipgate_number, True, "mk"),
            LiveCall("demo-call-2", landline.sipgate_number, True, "jb"),
            LiveCall("demo-call-3", unanswered.sipgate_number, False, "sw"),
            LiveCall("demo-call-4", outbound.sipgate_number, True, "al", inbound=False),
        ]
        self.staff_work(mobile, landline)

    def staff_work(self, mobile: Person, landline: Person) -> None:
        busy = (mobile, landline, *self.out.missed_yesterday)
        regular = [p for p in self.regulars if p not in busy][:4]
        complainer = next(p for p in regular if p.contact_id not in self.complained)
        notes = ((mobile, 0), (landline, 1), (regular[0], 2), (regular[1], 4), (complainer, 5))
        self.out.notes += [Note(p.contact_id, texts.CALL_NOTES[i]) for p, i in notes]
        for person, _ in notes[2:]:
            self.out.calls.append(self.answered(person.phones[0], self.at(1)))
        targets = (mobile, regular[0], landline, complainer, regular[2])
        for person, (title, due, assignee) in zip(targets, texts.TASKS, strict=True):
            self.out.tasks.append(Task(person.contact_id, title, due, assignee))

    def done(self) -> Year:
        self.out.mails.sort(key=lambda m: m.at)
        self.out.calls.sort(key=lambda c: c.at)
        return self.out

    # -- who ----------------------------------------------------------------------

    def customer(self) -> Person:
        pool = self.regulars if self.rng.random() < 0.8 else self.others
        return self.rng.choice(pool)

    def yesterdays_callers(self) -> list[Person]:
        mobile = next(p for p in self.regulars if p.mobile and not p.company)
        company = next(p for p in self.regulars if p.fax and p is not mobile)
        staff = next(p for p in self.regulars if p.company and not p.fax)
        return [mobile, company, staff]

    def todays_callers(self) -> tuple[Person, Person, Person, Person]:
        taken = set(map(id, self.out.missed_yesterday))
        free = [p for p in self.regulars if id(p) not in taken]
        mobiles = [p for p in free if p.mobile]
        landline = next(p for p in free if p.fax)
        outbound = next(p for p in free if p.fax and p is not landline)
        return mobiles[0], landline, mobiles[1], outbound

    def text_for(self, person: Person, recent: bool) -> Text:
        roll = self.rng.random()
        if roll < (0.1 if recent else 0.04) and person.contact_id not in self.complained:
            self.complained.add(person.contact_id)  # one complaint a customer: one at risk
            return self.rng.choice(texts.COMPLAINT)
        if roll < (0.25 if recent else 0.12):
            return self.rng.choice(texts.PRAISE)
        return self.rng.choice(texts.NEUTRAL)

    # -- what ---------------------------------------------------------------------

    def inbound(self, person: Person, at: datetime, text: Text, *, reply: bool = False) -> None:
        subject, body = text
        mail = Mail(
            at,
            person.email,
            person.name,
            firm.INFO,
            firm.NAME,
            subject,
            letter(body, person.name, person.company),
            self.message_id(person.email),
            mood=texts.mood_of(text),
        )
        self.out.mails.append(mail)
        if reply or mail.mood == "complaint" or self.rng.random() < 0.45:
            self.reply(person, mail)

    def reply(self, person: Person, mail: Mail) -> None:
        at = self.office_hours(mail.at + timedelta(minutes=self.rng.randint(30, 240)))
        if at > self.now - timedelta(minutes=10):
            return
        staff = firm.STAFF_BY_NAME.get(person.owner, firm.STAFF[0])
        quoted = "\n".join(f"> {line}" for line in mail.body.splitlines())
        body = letter(self.rng.choice(texts.REPLIES[mail.mood]), staff.name, firm.NAME)
        body += f"\n\nAm {mail.at:%d.%m.%Y um %H:%M} schrieb {mail.sender_name}:\n{quoted}"
        self.out.mails.append(
            Mail(
                at,
                staff.email,
                staff.name,
                person.email,
                person.name,
                f"AW: {mail.subject}",
                body,
                self.message_id(staff.email),
                mail.message_id,
            )
        )

    def offer(self, person: Person, at: datetime) -> None:
        staff = firm.STAFF_BY_NAME.get(person.owner, firm.STAFF[0])
        subject, text = self.rng.choice(texts.OFFERS)
        body = letter(text, staff.name, firm.NAME)
        mail = Mail(
            at,
            staff.email,
            staff.name,
            person.email,
            person.name,
            subject,
            body,
            self.message_id(staff.email),
        )
        self.out.mails.append(mail)

    def unknown_sender(self, days_ago: int) -> None:
        n = STRANGER_DAYS.index(days_ago)
        address = f"anfrage{n + 1}@neukunde-{n + 1}.de"
        person = Person(f"unknown-{n}", f"Neukunde {n + 1}", address, (), None, "", "")
        self.inbound(person, self.at(days_ago), texts.NEUTRAL[(8, 6, 0, 4)[n]])

    def order_fax(self, at: datetime, text: Text) -> None:
        sender = next(p for p in self.regulars if p.fax and p.contact_id not in self.faxed)
        self.faxed.add(sender.contact_id)
        self.out.mails.append(self.fax(at, sender.fax or "", text))

    def fax(self, at: datetime, number: str, text: Text) -> Fax:
        message_id = self.message_id(firm.FAX_ADDRESS)
        return Fax(at, number, text[0], text[1], message_id, texts.mood_of(text))

    def ordinary_call(self, at: datetime) -> None:
        roll = self.rng.random()
        if roll < 0.12:
            self.out.calls.append(missed(self.rng.choice(self.unknown), at))
        elif roll < 0.16:
            self.out.calls.append(missed("", at))
        elif roll < 0.8:
            self.out.calls.append(self.answered(self.rng.choice(self.customer().phones), at))
        else:
            number = self.rng.choice(self.customer().phones)
            self.out.calls.append(self.dialled(number, at, roll < 0.95))

    def answered(self, number: str, at: datetime) -> Call:
        extension = self.rng.choice(firm.STAFF).extension
        return Call(at, box_number(number), True, True, self.rng.randint(40, 900), extension)

    def dialled(self, number: str, at: datetime, reached: bool) -> Call:
        extension = self.rng.choice(firm.STAFF).extension
        seconds = self.rng.randint(30, 600) if reached else 0
        return Call(at, box_number(number), False, reached, seconds, extension)

    # -- when, and ids ------------------------------------------------------------

    def at(self, days_ago: int) -> datetime:
        return self.clock(days_ago, self.rng.randint(8, 16), self.rng.randint(0, 59))

    def clock(self, days_ago: int, hour: int, minute: int) -> datetime:
        day = self.now.date() - timedelta(days=days_ago)
        second = self.rng.randint(0, 59)
        return datetime.combine(day, time(hour, minute, second), tzinfo=self.now.tzinfo)

    def office_hours(self, at: datetime) -> datetime:
        """`at`, or the next morning when it falls after office hours."""
        if at.hour < 17:
            return at
        morning = time(8, self.rng.randint(0, 59), self.rng.randint(0, 59))
        return datetime.combine(at.date() + timedelta(days=1), morning, tzinfo=at.tzinfo)

    def message_id(self, address: str) -> str:
        self.sent += 1
        return f"<demo.{self.sent}@{address.rpartition('@')[2]}>"


def missed(number: str, at: datetime) -> Call:
    """An inbound call nobody answered (`number` in E.164, "" when withheld)."""
    return Call(at, box_number(number), answered=False)


def letter(body: str, name: str, company: str) -> str:
    """A short business letter: greeting, text, closing, who wrote it."""
    signature = name if not company or company == name else f"{name}\n{company}"
    return f"Guten Tag,\n\n{body}\n\n{texts.SIGN_OFF}\n{signature}\n"
