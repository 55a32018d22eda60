"""The class roster: who is enrolled, with names, so that nobody is left out of the grades.

Without a roster the grader knows only the students whose files it finds: a student who
handed in nothing is absent from ``grades.csv`` instead of getting a 0, and nbgrader's
formgrader shows every student as "None, None" (nbgrader issue #1821). With
``autograder grade --roster roster.csv``:

* every enrolled student gets a row for every notebook graded (``missing``, 0 points, when
  nothing was handed in);
* the gradebook holds their names and e-mail, as ``nbgrader db student import`` would put
  them there, so formgrader and ``nbgrader export`` show them;
* a hand-in from an id that is not on the roster is still graded, and the class report
  lists it: usually a typo in a file or folder name that an instructor should fix.

The file is a CSV with a header row, as an LMS exports it. Only the id column is required;
the header names nbgrader uses (``id``, ``first_name``, ``last_name``, ``email``) and the
usual Korean ones (학번, 이름, 성, 이메일) are both understood.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

COLUMNS = {  # the field, and the header names that stand for it (compared case-insensitively)
    "student_id": ("student_id", "id", "student id", "학번"),
    "first_name": ("first_name", "first name", "given name", "이름"),
    "last_name": ("last_name", "last name", "family name", "surname", "성"),
    "email": ("email", "e-mail", "이메일"),
}


class RosterError(ValueError):
    """The roster file cannot be used; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class Student:
    student_id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


def read_roster(path: Path) -> dict[str, Student]:
    """The roster's students by id, in the file's order."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel writes a byte-order mark
    except FileNotFoundError:
        raise RosterError(f"the roster {path} does not exist; give the CSV your LMS exports") from None
    except UnicodeDecodeError:
        raise RosterError(f"the roster {path} is not UTF-8 text; save it from the spreadsheet as CSV UTF-8") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise RosterError(f"the roster {path} is empty; it needs a header row with a student_id (or 학번) column")
    header = [cell.strip().lower() for cell in rows[0]]
    where = {field: next((header.index(n) for n in names if n in header), None) for field, names in COLUMNS.items()}
    if where["student_id"] is None:
        raise RosterError(f"the roster {path} has no student id column (its header is {rows[0]}); "
                          f"name it one of {', '.join(COLUMNS['student_id'])}")
    students: dict[str, Student] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {field: (row[i].strip() or None) if i is not None and i < len(row) else None
                  for field, i in where.items()}
        student_id = values.pop("student_id")
        if student_id is None:
            raise RosterError(f"line {line} of the roster {path} has no student id; fill it in or delete the line")
        if student_id in students:
            raise RosterError(f"student id {student_id!r} is on the roster {path} twice (line {line}); "
                              "keep one line per student")
        students[student_id] = Student(student_id, **values)
    return students
