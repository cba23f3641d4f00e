// AWS's own Amazon States Language service (npm amazon-states-language-service, what the AWS Toolkit and the
// console's editor run) over ASL files: prints one JSON object {file: [diagnostics]} and exits 0.
// Usage: node aws_language_service.js NODE_MODULES_DIR FILE...
const path = require("path");
const fs = require("fs");
const modules = path.resolve(process.argv[2]);
const { getLanguageService } = require(path.join(modules, "amazon-states-language-service"));
const { TextDocument } = require(path.join(modules, "vscode-languageserver-textdocument"));

async function main() {
  const service = getLanguageService({});
  const found = {};
  for (const file of process.argv.slice(3)) {
    const document = TextDocument.create(`file://${path.resolve(file)}`, "json", 0, fs.readFileSync(file, "utf8"));
    const diagnostics = await service.doValidation(document, service.parseJSONDocument(document));
    found[file] = diagnostics.map((d) => ({ line: d.range.start.line + 1, severity: d.severity, message: d.message }));
  }
  process.stdout.write(JSON.stringify(found));
}
main().catch((error) => { console.error(error); process.exit(2); });
