// junit.xml for a gradebook: one testsuite per student, one testcase per hidden check. It is the
// instructor's view (what each check observed), for a CI system's test page, not for students.
import { escapeAttribute, escapeMarkup } from "../report/escape.ts";
import { stripAnsi } from "../report/text.ts";
import type { Gradebook } from "./gradebook.ts";
import type { StudentGrade } from "./score.ts";

function testCases(grade: StudentGrade): string[] {
  const classname = escapeAttribute(grade.student);
  if (grade.status !== "graded") {
    const kind = grade.status === "rejected" ? "failure" : "error";
    const message = escapeAttribute(grade.reason ?? grade.status);
    return [`    <testcase classname="${classname}" name="submission"><${kind} message="${message}" type="${grade.status}"/></testcase>`];
  }
  return grade.exercises.flatMap((exercise) =>
    exercise.checks.map((check) => {
      const open = `    <testcase classname="${classname}" name="${escapeAttribute(`${exercise.id} / ${check.cell}: ${check.name}`)}"`;
      if (check.passed) return `${open}/>`;
      return `${open}><failure message="${escapeAttribute(stripAnsi(check.detail).slice(0, 500))}" type="hidden-check">${escapeMarkup(stripAnsi(check.detail))}</failure></testcase>`;
    }),
  );
}

export function gradebookJunit(book: Gradebook): string {
  const suites = book.students.map((grade) => {
    const cases = testCases(grade);
    const failures = cases.filter((c) => c.includes("<failure")).length;
    const errors = cases.filter((c) => c.includes("<error")).length;
    const time = (grade.durationMs / 1000).toFixed(3);
    return [
      `  <testsuite name="${escapeAttribute(`${book.lab}: ${grade.student}`)}" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${time}">`,
      `    <properties><property name="score" value="${grade.total} / ${grade.max}"/></properties>`,
      ...cases,
      "  </testsuite>",
    ];
  });
  return ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="labbook grade ${escapeAttribute(book.lab)}">`, ...suites.flat(), "</testsuites>", ""].join("\n");
}
