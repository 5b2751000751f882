// mocha's spec reporter plus one closing line in the plain "N passed, N failed"
// form that CI systems read regardless of the test runner.
const { reporters } = require("mocha");

class LabbookReporter extends reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once("end", () => {
      const { passes, failures, pending } = runner.stats;
      process.stdout.write(`\n${passes} passed, ${failures} failed, ${pending} skipped\n`);
    });
  }
}

module.exports = LabbookReporter;
