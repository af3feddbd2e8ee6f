#!/usr/bin/env node
// A stand-in for the native `solc` binary that py-solc-x (and so Brownie) runs,
// answering the few command-line forms they use with the official wasm compiler
// from npm (solcjs). No native solc can be downloaded on our machines.
"use strict";
const fs = require("fs");
const path = require("path");

// Resolve solc from the project's node_modules even when invoked through a symlink.
const projectRoot = path.resolve(fs.realpathSync(__filename), "..", "..");
const solc = require(require.resolve("solc", { paths: [projectRoot] }));

const args = process.argv.slice(2);

function readStdin() {
  return fs.readFileSync(0, "utf8");
}

// Import callback: read any file the compiler asks for from disk (remapped paths are absolute).
function findImports(importPath) {
  const candidates = [importPath, path.join(process.cwd(), importPath)];
  for (const p of candidates) {
    try {
      return { contents: fs.readFileSync(p, "utf8") };
    } catch (_) {
      /* try the next candidate */
    }
  }
  return { error: `File not found: ${importPath}` };
}

function write(text) {
  // process.exit() right after a large write truncates piped stdout at 64 KiB; set exitCode instead.
  process.stdout.write(text);
}

if (args.includes("--version")) {
  write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
} else if (args.includes("--help")) {
  write(
    "solc (solcjs shim)\n  --standard-json      Switch to Standard JSON input / output mode.\n" +
      "  --combined-json abi,bin,bin-runtime,metadata  Output a single json document.\n"
  );
} else if (args.includes("--standard-json")) {
  write(solc.compile(readStdin(), { import: findImports }));
} else if (args.includes("--combined-json")) {
  // Minimal combined-json for py-solc-x's compile_source/compile_files.
  const fields = args[args.indexOf("--combined-json") + 1].split(",");
  const files = args.filter((a, i) => !a.startsWith("-") && args[i - 1] !== "--combined-json" && a.endsWith(".sol"));
  const sources = {};
  if (files.length === 0) sources["<stdin>"] = { content: readStdin() };
  for (const f of files) sources[f] = { content: fs.readFileSync(f, "utf8") };
  const input = {
    language: "Solidity",
    sources,
    settings: { outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "metadata"] } } },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (out.errors || []).filter((e) => e.severity === "error");
  if (errors.length) {
    process.stderr.write(errors.map((e) => e.formattedMessage).join("\n"));
    process.exitCode = 1;
  } else {
    const contracts = {};
    for (const [file, byName] of Object.entries(out.contracts || {})) {
      for (const [name, c] of Object.entries(byName)) {
        const entry = {};
        if (fields.includes("abi")) entry.abi = c.abi;
        if (fields.includes("bin")) entry.bin = c.evm.bytecode.object;
        if (fields.includes("bin-runtime")) entry["bin-runtime"] = c.evm.deployedBytecode.object;
        if (fields.includes("metadata")) entry.metadata = c.metadata;
        contracts[`${file}:${name}`] = entry;
      }
    }
    write(JSON.stringify({ contracts, version: solc.version() }));
  }
} else {
  process.stderr.write(`solc shim: unsupported arguments: ${args.join(" ")}\n`);
  process.exitCode = 2;
}
