// After tsc: make the CLI entry points executable (tsc keeps the shebang but not the mode).
import { chmod, stat } from "node:fs/promises";

for (const file of ["dist/index.js", "dist/sandbox/cli.js"]) {
  try {
    await stat(file);
    await chmod(file, 0o755);
  } catch {
    // An entry that does not exist yet is not an error for the build.
  }
}
