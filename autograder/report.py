"""Report stage: grades.csv, results.json, Korean feedback per student and notebook, a class report.

Feedback shows what passed and what failed with the failure's message, never the code of
a test: hidden tests stay hidden. The class report is for the instructor: the score
distribution, pass rates per exercise, and the submissions a human should look at.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

from .collect import Collection
from .model import NotebookResult, SourceNotebook, Status
from .settings import ASSIGNMENT_ID
from .similarity import COMMON, COMPARED, SHORT, SOLUTION, UNANSWERED, SimilarityReport

CSV_COLUMNS = ["student_id", "notebook", "score", "max_score", "status", "message", "needs_review", "notes",
               "original_name", "sandbox"]
UNSANDBOXED = ("UNSANDBOXED RUN: --sandbox none was given, so student code ran with this machine's files, "
               "network and processes in reach; these grades are only as trustworthy as the students.")

STATUS_KO = {
    Status.OK: "채점 완료",
    Status.MISSING: "제출되지 않음",
    Status.INVALID: "노트북 파일을 읽을 수 없음",
    Status.TIMEOUT: "시간 제한 초과",
    Status.MEMORY: "메모리 제한 초과",
    Status.KERNEL_DIED: "커널이 중간에 종료됨",
    Status.GRADER_ERROR: "채점기 오류 (담당 교수자에게 문의하세요)",
    Status.TAMPERED: "테스트 실행 방식이 바뀜 (교수자 확인 필요)",
}

STATUS_HELP_KO = {
    Status.MISSING: "이 노트북 파일을 찾지 못했습니다. 파일 이름(예: 01_tensors.ipynb)을 확인하고 다시 제출하세요.",
    Status.INVALID: "제출한 파일이 주피터 노트북(.ipynb) 형식이 아닙니다. Colab에서 "
                    "'파일 → 다운로드 → .ipynb 다운로드'로 받은 파일을 제출하세요.",
    Status.TIMEOUT: "실행 시간이 너무 길어 중단되었습니다. 무한 루프나 너무 긴 학습이 없는지 확인하세요. "
                    "중단되기 전에 통과한 테스트의 점수는 인정됩니다.",
    Status.MEMORY: "메모리를 너무 많이 사용해 중단되었습니다. 지나치게 큰 텐서나 배열을 만들지 않았는지 확인하세요. "
                   "중단되기 전에 통과한 테스트의 점수는 인정됩니다.",
    Status.KERNEL_DIED: "파이썬 커널이 비정상적으로 종료되었습니다(exit() 호출, 충돌 등). "
                        "종료되기 전에 통과한 테스트의 점수는 인정됩니다.",
    Status.TAMPERED: "노트북 코드가 테스트가 실행되는 방식(IPython 변환기, 커널 메서드, 라이브러리 함수 등)을 "
                     "바꿨습니다. 그 이후의 테스트 점수는 인정되지 않으며, 교수자가 직접 확인합니다.",
}


def write_all(out: Path, results: list[NotebookResult], course: dict[str, SourceNotebook],
              collection: Collection, settings: dict, similar: SimilarityReport | None = None) -> dict[str, Path]:
    """Write every report for ``results`` (and the similarity report when given); return where each kind went."""
    wanted = {(s.student_id, s.notebook) for s in collection.submissions}
    results = sorted((r for r in results if (r.student_id, r.notebook) in wanted),
                     key=lambda r: (r.student_id, r.notebook))
    paths = {
        "csv": write_csv(out / "grades.csv", results, settings.get("sandbox", "none")),
        "json": write_json(out / "results.json", results, collection, settings),
        "feedback": out / "feedback",
        "report": write_class_report(out / "report.html", results, course, collection, settings.get("sandbox"),
                                     similar),
    }
    if similar is not None:
        paths["similarity"] = write_similarity_csv(out / "similarity.csv", similar)
    for result in results:
        write_feedback(out / "feedback" / result.student_id / (Path(result.notebook).stem + ".html"),
                       result, course.get(result.notebook))
    return paths


def _fmt(x: float) -> str:
    return f"{x:g}"


def write_csv(path: Path, results: list[NotebookResult], sandbox: str = "none") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for r in results:
            writer.writerow({
                "student_id": r.student_id, "notebook": Path(r.notebook).stem, "score": _fmt(r.score),
                "max_score": _fmt(r.max_score), "status": r.status.value, "message": r.message,
                "needs_review": "yes" if r.needs_review else "no",
                "notes": " | ".join(n.splitlines()[0] for n in r.notes), "original_name": r.original_name,
                "sandbox": sandbox,
            })
    return path


def write_json(path: Path, results: list[NotebookResult], collection: Collection, settings: dict) -> Path:
    document = {
        "assignment": ASSIGNMENT_ID,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": settings,
        "sandboxed": settings.get("sandbox") not in (None, "none"),
        "extra_files": collection.extra_files,
        "not_on_roster": collection.not_on_roster,
        "results": [r.to_json() for r in results],
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


_STYLE = """
body{font-family:system-ui,'Noto Sans KR','Malgun Gothic',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#222}table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #ccc;padding:.4rem .6rem;
text-align:left;vertical-align:top}th{background:#f3f3f3}.pass{color:#137333}.fail{color:#b3261e}
.note{background:#fff8e1;padding:.6rem 1rem;border-left:4px solid #f9a825}code{white-space:pre-wrap}
img{max-width:100%}.sbs{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:.5rem}
.sbs pre{background:#f7f7f7;padding:.5rem;margin:.2rem 0;overflow-x:auto;font-size:.85rem}mark{background:#ffd54f}
summary{cursor:pointer}
"""


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"ko\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n")


def _failure_ko(test) -> str:
    if not test.executed:
        return "실행되지 않음: 노트북이 이 셀에 도달하기 전에 중단되었습니다."
    where = "숨겨진 테스트(hidden test)" if test.in_hidden_tests else "자가 점검(self-check)"
    text = test.error or "오류 메시지가 없습니다."
    if test.error.startswith("NotImplementedError"):
        return "아직 답을 작성하지 않았습니다 (NotImplementedError)."
    return f"{where}에서 실패: <code>{html.escape(text)}</code>"


def write_feedback(path: Path, result: NotebookResult, source: SourceNotebook | None) -> Path:
    """A student's feedback page (Korean): score, status, and per exercise what passed or why not."""
    titles = source.titles if source else {}
    rows = []
    for test in result.tests:
        title = html.escape(titles.get(test.grade_id, test.grade_id))
        verdict = ('<span class="pass">통과</span>' if test.passed
                   else f'<span class="fail">{_failure_ko(test)}</span>')
        points = f"{_fmt(test.points)} / {_fmt(test.max_points)}"
        rows.append(f"<tr><td>{title}</td><td>{points}</td><td>{verdict}</td></tr>")
    status_line = STATUS_KO[result.status]
    help_text = STATUS_HELP_KO.get(result.status, "")
    body = [f"<h1>{html.escape(Path(result.notebook).stem)} 채점 결과</h1>",
            f"<p>학생: <b>{html.escape(result.student_id)}</b></p>",
            f"<p>점수: <b>{_fmt(result.score)} / {_fmt(result.max_score)}</b> — {status_line}</p>"]
    if help_text:
        body.append(f'<p class="note">{html.escape(help_text)}</p>')
    if rows:
        body.append("<table><tr><th>연습 문제</th><th>점수</th><th>결과</th></tr>" + "".join(rows) + "</table>")
    body.append("<p>숨겨진 테스트는 공개 자가 점검과 같은 능력을 다른 입력으로 확인합니다. "
                "자가 점검만 통과하도록 값을 고정한 답은 숨겨진 테스트에서 실패합니다.</p>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_page(f"{result.student_id} {result.notebook}", "\n".join(body)), encoding="utf-8")
    return path


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def chart_library():
    """matplotlib's pyplot on the file-only backend. Imported on first use (0.3 s), which the grader
    starts in the background while the notebooks run, so the class report does not wait for it."""
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    return plt


def _charts(results: list[NotebookResult], course: dict[str, SourceNotebook]) -> list[str]:
    plt = chart_library()

    totals: dict[str, float] = defaultdict(float)
    possible: dict[str, float] = defaultdict(float)
    for r in results:
        totals[r.student_id] += r.score
        possible[r.student_id] += r.max_score
    percent = [100 * totals[s] / possible[s] for s in totals if possible[s] > 0]
    charts = []
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.hist(percent, bins=[0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100.001], color="#3b6ea5", edgecolor="white")
    ax.set_xlabel("total score (% of points)")
    ax.set_ylabel("students")
    ax.set_title("Score distribution")
    charts.append(_png(fig))
    plt.close(fig)

    passed: Counter[tuple[str, str]] = Counter()
    seen: Counter[tuple[str, str]] = Counter()
    for r in results:
        for t in r.tests:
            seen[(r.notebook, t.grade_id)] += 1
            passed[(r.notebook, t.grade_id)] += t.passed
    if seen:
        keys = sorted(seen)
        fig, ax = plt.subplots(figsize=(7, 0.3 * len(keys) + 1))
        ax.barh([f"{Path(nb).stem[:2]} {gid}" for nb, gid in keys],
                [100 * passed[k] / seen[k] for k in keys], color="#5a9e6f")
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xlabel("students passing (%) among graded submissions")
        ax.set_title("Pass rate per exercise")
        charts.append(_png(fig))
        plt.close(fig)
    return charts


def write_class_report(path: Path, results: list[NotebookResult], course: dict[str, SourceNotebook],
                       collection: Collection, sandbox: str | None = None,
                       similar: SimilarityReport | None = None) -> Path:
    """The instructor's overview of the class (HTML with embedded charts)."""
    statuses = Counter(r.status for r in results)
    students = sorted({r.student_id for r in results})
    notebooks = sorted({r.notebook for r in results})
    by_pair = {(r.student_id, r.notebook): r for r in results}
    body = [f"<h1>Class report — {ASSIGNMENT_ID}</h1>",
            f"<p>{len(students)} students, {len(notebooks)} notebooks, {len(results)} graded rows. "
            + ", ".join(f"{html.escape(s.value)}: {n}" for s, n in sorted(statuses.items(), key=lambda x: x[0].value))
            + "</p>"]
    if sandbox == "none":
        body.append(f'<p class="note"><b>{html.escape(UNSANDBOXED)}</b></p>')
    body += _charts(results, course)

    review = [r for r in results if r.needs_review]
    body.append(f"<h2>Needs a human look ({len(review)})</h2>")
    if review:
        rows = "".join(
            f"<tr><td>{html.escape(r.student_id)}</td><td>{html.escape(Path(r.notebook).stem)}</td>"
            f"<td>{html.escape(r.status.value)}</td><td>{_fmt(r.score)} / {_fmt(r.max_score)}</td>"
            f"<td>{html.escape(r.message)}<br>{'<br>'.join(html.escape(n.splitlines()[0]) for n in r.notes)}</td>"
            f'<td><a href="autograded/{html.escape(r.student_id)}/{ASSIGNMENT_ID}/{html.escape(r.notebook)}">'
            f'graded notebook</a></td></tr>' for r in review)
        body.append("<table><tr><th>student</th><th>notebook</th><th>status</th><th>score</th><th>why</th>"
                    f"<th></th></tr>{rows}</table>")
    else:
        body.append("<p>Nothing: every submission ran cleanly.</p>")
    body += similarity_section(similar)

    header = "".join(f"<th>{html.escape(Path(n).stem)}</th>" for n in notebooks)
    rows = []
    for s in students:
        cells = []
        for n in notebooks:
            r = by_pair.get((s, n))
            if r is None:
                cells.append("<td></td>")
                continue
            flag = "" if r.status is Status.OK else " " + r.status.value
            cells.append(f'<td><a href="feedback/{html.escape(s)}/{html.escape(Path(n).stem)}.html">'
                         f"{_fmt(r.score)}/{_fmt(r.max_score)}</a>{flag}</td>")
        total = sum(by_pair[(s, n)].score for n in notebooks if (s, n) in by_pair)
        rows.append(f"<tr><td>{html.escape(s)}</td>{''.join(cells)}<td><b>{_fmt(total)}</b></td></tr>")
    body.append(f"<h2>Grades</h2><table><tr><th>student</th>{header}<th>total</th></tr>{''.join(rows)}</table>")
    if collection.not_on_roster:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in collection.not_on_roster)
        body.append("<h2>Hand-ins from ids not on the roster (graded; check the file or folder name)</h2>"
                    f"<ul>{items}</ul>")
    if collection.extra_files:
        items = "".join(f"<li>{html.escape(f)}</li>" for f in collection.extra_files)
        body.append(f"<h2>Files that are not course notebooks (ignored)</h2><ul>{items}</ul>")
    path.write_text(_page(f"Class report {ASSIGNMENT_ID}", "\n".join(body)), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- similar answers

SIMILARITY_CSV_COLUMNS = ["scope", "notebook", "exercise", "student_a", "student_b", "similarity", "similarity_a",
                          "similarity_b", "exercises_flagged", "exercises_compared"]
NEVER_A_GRADE = ("이 목록은 사람이 직접 살펴볼 답안을 알려 줄 뿐이며, 점수를 바꾸지 않습니다. "
                 "비슷하다고 해서 베꼈다는 증거는 아닙니다. — "
                 "This list only flags answers for a human to look at; it never changes a grade. "
                 "Similar is not proof of copying.")


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def write_similarity_csv(path: Path, similar: SimilarityReport) -> Path:
    """similarity.csv: the flagged pairs per student pair and per exercise, and who handed in the solution."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=SIMILARITY_CSV_COLUMNS)
        writer.writeheader()
        for p in similar.overall:
            writer.writerow({"scope": "overall", "student_a": p.student_a, "student_b": p.student_b,
                             "similarity": f"{p.similarity:.2f}", "exercises_flagged": len(p.flagged),
                             "exercises_compared": p.compared})
        for m in similar.pairs:
            writer.writerow({"scope": "exercise", "notebook": Path(m.notebook).stem, "exercise": m.grade_id,
                             "student_a": m.student_a, "student_b": m.student_b, "similarity": f"{m.similarity:.2f}",
                             "similarity_a": f"{m.similarity_a:.2f}", "similarity_b": f"{m.similarity_b:.2f}"})
        for (notebook, grade_id), students in sorted(similar.same_as_solution.items()):
            for student in students:
                writer.writerow({"scope": "same_as_solution", "notebook": Path(notebook).stem, "exercise": grade_id,
                                 "student_a": student})
    return path


def _marked(text: str, marks: list[tuple[int, int, int]]) -> str:
    """The answer as HTML, the parts that match the other answer in <mark>."""
    by_line: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for line, start, end in marks:
        by_line[line].append((start, end))
    out = []
    for number, line in enumerate(text.split("\n")):
        spans, merged = sorted(by_line.get(number, [])), []
        indent = len(line) - len(line.lstrip())
        for start, end in spans:
            start = max(start, indent)  # mark code, not its indentation
            if start >= end:
                continue
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        pieces, at = [], 0
        for start, end in merged:
            pieces.append(html.escape(line[at:start]) + "<mark>" + html.escape(line[start:end]) + "</mark>")
            at = end
        out.append("".join(pieces) + html.escape(line[at:]))
    return "\n".join(out)


def similarity_section(similar: SimilarityReport | None) -> list[str]:
    """The class report's section on similar answers (Korean and English)."""
    if similar is None:
        return ["<h2 id=\"similarity\">비슷한 답안 (Similar answers)</h2>",
                "<p>Not run this time (<code>--no-similarity</code>).</p>"]
    kinds = Counter()
    for counts in similar.kinds.values():
        kinds.update(counts)
    body = [f"<h2 id=\"similarity\">비슷한 답안 (Similar answers): {len(similar.pairs)}</h2>",
            f'<p class="note"><b>{html.escape(NEVER_A_GRADE)}</b></p>',
            "<p>Each exercise's answers are compared between every pair of students with copydetect (winnowed "
            "fingerprints, as MOSS does), here on this machine. Left out as shared by everyone: the student "
            "edition's code (the stub, the listings), the instructor's solution, and passages that many "
            "classmates wrote alike. Renamed variables (Korean or not), strings, comments, whitespace and the "
            "order of independent lines do not count. Listed: two answers when at least "
            f"<b>{_pct(similar.threshold)}</b> of one's own code matches the other "
            "(<code>--similarity-threshold</code>). Not compared: unanswered cells, answers with one line of code "
            "of their own or too little code left to tell, and answers identical to the solution, listed apart. "
            f"{kinds[COMPARED]} answers compared, {kinds[UNANSWERED]} unanswered, {kinds[SHORT] + kinds[COMMON]} "
            f"too short or only common code, {kinds[SOLUTION]} the solution; {similar.compared_pairs} pairs "
            f"scored in {similar.seconds:.1f} s.</p>"]
    if similar.unreadable:
        body.append("<p>Not read (not a notebook): " + ", ".join(
            f"{html.escape(s)}/{html.escape(Path(n).stem)}" for s, n in similar.unreadable) + ".</p>")
    for notebook, grade_id, error in similar.failed:
        body.append(f'<p class="note">{html.escape(Path(notebook).stem)} <code>{html.escape(grade_id)}</code>: not '
                    f"compared, the similarity stage failed ({html.escape(error)}); please report it.</p>")
    if similar.overall:
        rows = "".join(
            f"<tr><td>{html.escape(p.student_a)}</td><td>{html.escape(p.student_b)}</td>"
            f"<td>{len(p.flagged)} / {p.compared}</td><td>{_pct(p.similarity)}</td>"
            f"<td>{', '.join(html.escape(g) for _, g in p.flagged)}</td></tr>" for p in similar.overall)
        body.append("<h3>학생 쌍 (Pairs of students, all exercises)</h3>"
                    "<table><tr><th>student</th><th>student</th><th>exercises listed / compared</th>"
                    "<th>own code matching, all compared exercises</th><th>listed exercises</th></tr>"
                    f"{rows}</table>")
    if similar.pairs:
        body.append("<h3>연습 문제별 (Per exercise: the two answers side by side, matching parts marked)</h3>")
        for m in similar.pairs:
            title = similar.titles.get((m.notebook, m.grade_id), m.grade_id)
            body.append(
                f"<details><summary>{html.escape(Path(m.notebook).stem)} · {html.escape(title)} "
                f"(<code>{html.escape(m.grade_id)}</code>): <b>{html.escape(m.student_a)}</b> "
                f"{_pct(m.similarity_a)} · <b>{html.escape(m.student_b)}</b> {_pct(m.similarity_b)}</summary>"
                f'<div class="sbs"><div><b>{html.escape(m.student_a)}</b><pre>{_marked(m.text_a, m.marks_a)}</pre>'
                f"</div><div><b>{html.escape(m.student_b)}</b><pre>{_marked(m.text_b, m.marks_b)}</pre></div>"
                "</div></details>")
    else:
        body.append("<p>No two answers reach the threshold.</p>")
    solution_rows = "".join(
        f"<tr><td>{html.escape(Path(nb).stem)}</td><td>{html.escape(similar.titles.get((nb, g), g))}</td>"
        f"<td>{', '.join(html.escape(s) for s in students)}</td></tr>"
        for (nb, g), students in sorted(similar.same_as_solution.items()) if students)
    body.append("<h3>모범 답안과 같은 답 (Answers identical to the instructor's solution)</h3>"
                "<p>Up to names, comments and layout. Not evidence that these students copied each other, so they "
                "are not paired above; whether the solution went round is for a human to judge.</p>"
                + (f"<table><tr><th>notebook</th><th>exercise</th><th>students</th></tr>{solution_rows}</table>"
                   if solution_rows else "<p>None.</p>"))
    return body
