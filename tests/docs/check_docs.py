#!/usr/bin/env python3
"""Checks every code block of one markdown page (ctest label `docs`).

    check_docs.py PAGE.md --source-dir DIR --work-dir DIR --cxx COMPILER
                  [--include-dirs 'a|b'] [--compile-options 'x|y'] [--link-options 'x|y']
                  [--example NAME=PATH]...

C++ blocks are compiled, shell and cmake blocks checked against the
repository, every other block must say what it is (`text`, `python`, ...).
The conventions a page follows (the `<!-- docs-test: ... -->` markers) are
described in docs/testing.md. Errors are printed as `PAGE:LINE: message`,
compiler errors point into the page through #line directives.
"""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys

# ctest shows exit code 77 as "skipped" (SKIP_RETURN_CODE in tests/CMakeLists.txt).
SKIP = 77

# Languages whose blocks are shown, never run: output samples, other
# languages the page compares with, file contents.
SHOWN_ONLY = {"text", "python", "dot"}
CPP = {"cpp", "c++"}
SHELL = {"sh", "bash", "shell"}
CONSOLE = {"console"}
CMAKE = {"cmake"}

# Warning flags a user is likely to build with; the documented hand-compile
# commands must stay quiet under them (Eigen included with -I, not -isystem,
# prints hundreds of its own warnings).
USER_WARNINGS = ["-Wall", "-Wextra", "-Wpedantic"]

MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(.*?)\s*-->\s*$")
CONTEXT_START = re.compile(r"^\s*<!--\s*docs-test:\s*context\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*$")
INCLUDE = re.compile(r"^\s*#\s*include\s*[<\"].*$")
COMPILERS = re.compile(r"^(g\+\+|c\+\+|clang\+\+)(-[0-9.]+)?$")
CMAKE_BOOL = {"ON", "OFF", "TRUE", "FALSE", "YES", "NO", "1", "0", "Y", "N"}


class Block:
    def __init__(self, line, lang, text, marker):
        self.line = line  # line number of the first line of the block's content
        self.lang = lang
        self.text = text
        self.marker = marker  # what follows "docs-test:" in the comment before it, or None


class Context:
    def __init__(self, line, text):
        self.line = line
        self.text = text


class Checker:
    def __init__(self, args):
        self.args = args
        self.src = os.path.abspath(args.source_dir)
        self.page = os.path.relpath(os.path.abspath(args.page), self.src)
        self.errors = []
        self.skips = []
        self.examples = dict(e.split("=", 1) for e in args.example)
        self.help_cache = {}
        self.built = set()  # programs the page's compile commands write (-o NAME)
        self.includes = []  # every #include of the page's C++ blocks
        os.makedirs(args.work_dir, exist_ok=True)

    def error(self, line, message):
        self.errors.append(f"{self.page}:{line}: {message}")

    # ---------------------------------------------------------------- parsing

    def parse(self):
        lines = open(self.args.page, encoding="utf-8").read().split("\n")
        blocks, contexts = [], []
        previous = ""  # the last non-blank line outside a block
        i = 0
        while i < len(lines):
            line = lines[i]
            if CONTEXT_START.match(line):
                start = i + 1
                i += 1
                while i < len(lines) and "-->" not in lines[i]:
                    i += 1
                if i == len(lines):
                    self.error(start, "<!-- docs-test: context never closed with -->")
                contexts.append(Context(start + 1, "\n".join(lines[start:i])))
                previous = ""
                i += 1
                continue
            fence = FENCE.match(line)
            if fence:
                indent, mark, lang = fence.group(1), fence.group(2), fence.group(3).lower()
                start = i + 1
                i += 1
                body = []
                while i < len(lines) and not re.match(r"^\s*" + re.escape(mark[0]) + "{" + str(len(mark)) + r",}\s*$",
                                                     lines[i]):
                    body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip())
                    i += 1
                if i == len(lines):
                    self.error(start, "code block never closed")
                marker = MARKER.match(previous)
                blocks.append(Block(start + 1, lang, "\n".join(body), marker.group(1) if marker else None))
                previous = ""
                i += 1
                continue
            if line.strip():
                previous = line
            i += 1
        return blocks, contexts

    # ---------------------------------------------------------------- C++

    def check_cpp(self, blocks, contexts):
        """One translation unit for the whole page: fragments share one
        namespace after the page's contexts, each whole program gets a
        namespace of its own with main renamed. Compiling the page once
        costs one parse of lamina instead of one per block."""
        includes = []
        fragments = []  # code in the fragments' namespace, in page order
        programs = []
        files = []  # blocks that are a source file of their own
        self.named_programs = {}

        def hoist(text, line):
            """Moves #include lines out (to the top of the TU), keeps the line count."""
            kept = []
            for l in text.split("\n"):
                if INCLUDE.match(l):
                    inc = l.split("//")[0].strip()
                    if inc not in includes:
                        includes.append(inc)
                    kept.append("")
                else:
                    kept.append(l)
            return f'#line {line} "{self.page}"\n' + "\n".join(kept)

        self.includes = includes
        for c in contexts:
            fragments.append((c.line, hoist(c.text, c.line)))
        for n, b in enumerate(blocks):
            if b.lang not in CPP:
                continue
            kind, _, arg = (b.marker or "").partition(" ")
            has_main = re.search(r"\bint\s+main\s*\(", b.text) is not None
            if kind == "" or kind == "program":
                if not has_main:
                    self.error(b.line, "a C++ block without main(): make it a whole program, or mark it as a fragment "
                               "with <!-- docs-test: fragment --> (or declarations, synopsis, file) before it; "
                               "see docs/testing.md")
                    continue
                if kind == "program":
                    if not arg.strip():
                        self.error(b.line - 1, "<!-- docs-test: program NAME.cpp --> needs the file name")
                    self.named_programs[arg.strip()] = b
                programs.append((n, b.line, hoist(b.text, b.line)))
            elif kind == "fragment":
                if has_main:
                    self.error(b.line, "a whole program marked as a fragment: remove the marker")
                fragments.append((b.line, f"void docs_fragment_{n}() {{\n{hoist(b.text, b.line)}\n}}"))
            elif kind == "declarations":
                fragments.append((b.line, hoist(b.text, b.line)))
            elif kind == "synopsis":
                self.check_synopsis(b)
            elif kind == "file":
                files.append(b)
            else:
                self.error(b.line - 1, f"unknown docs-test marker '{b.marker}' before a C++ block")

        name = re.sub(r"[^\w]", "_", self.page)
        for b in files:
            # Its own translation unit, as written: what it defines or
            # #defines before an #include would change the page's TU.
            source = os.path.join(self.args.work_dir, f"{name}_{b.line}.cpp")
            with open(source, "w", encoding="utf-8") as f:
                f.write(f'#line {b.line} "{self.page}"\n{b.text}\n')
            self.compile(source, ["-fsyntax-only"])
        if not fragments and not programs:
            return
        tu = [f"// Generated by tests/docs/check_docs.py from {self.page}; errors point into the page."]
        tu += includes
        if fragments:
            tu.append("namespace docs_fragments {")
            tu += [code for _, code in fragments]
            tu.append("}  // namespace docs_fragments")
        for n, _, code in programs:
            # main renamed; `auto` because only the real main may end
            # without a return statement.
            code = re.sub(r"\bint(\s+)main(\s*)\(", rf"auto\1docs_program_{n}_main\2(", code)
            tu.append(f"namespace docs_program_{n} {{\n{code}\n}}  // namespace docs_program_{n}")
        if programs:
            # Taking each renamed main's address makes the link resolve
            # everything each program uses.
            tu.append("int main() {")
            for n, _, _ in programs:
                tu.append(f"    static_cast<void>(&docs_program_{n}::docs_program_{n}_main);")
            tu.append("}")
        source = os.path.join(self.args.work_dir, name + ".cpp")
        with open(source, "w", encoding="utf-8") as f:
            f.write("\n".join(tu) + "\n")
        if programs:
            self.compile(source, ["-o", os.path.join(self.args.work_dir, name)] + split_list(self.args.link_options))
        else:
            self.compile(source, ["-fsyntax-only"])

    def compile(self, source, output_options):
        cmd = [self.args.cxx, "-std=c++17", "-O0"] + split_list(self.args.compile_options)
        # As a user gets them from CMake's targets or the documented command:
        # lamina's own headers are checked for warnings by its own targets.
        for d in split_list(self.args.include_dirs):
            cmd += ["-isystem", d]
        # lamina's own warning set: a user who copies a block gets no warning
        # from it. Fragments often leave a variable unused, which is no defect.
        cmd += USER_WARNINGS + ["-Wno-unused-variable", "-Wno-unused-but-set-variable", "-Werror", source]
        cmd += output_options
        print("compiling:", " ".join(shlex.quote(c) for c in cmd), flush=True)
        r = subprocess.run(cmd, cwd=self.args.work_dir, capture_output=True, text=True)
        if r.returncode != 0:
            self.errors.append(f"{self.page}: C++ blocks do not compile (generated {source}):\n" + r.stdout + r.stderr)

    def check_synopsis(self, b):
        """A synopsis lists declarations of lamina's API: each function and
        class it declares must be declared in include/lamina under that name."""
        headers = self.headers_text()
        for off, l in enumerate(b.text.split("\n")):
            for kind, name in re.findall(r"\b(struct|class)\s+([\w:]+)\s*[{:]", l):
                name = name.split("::")[-1]
                if not re.search(r"\b(struct|class)\s+" + re.escape(name) + r"\b", headers):
                    self.error(b.line + off, f"{kind} '{name}' is declared nowhere in include/lamina")
            m = re.match(r"^\s*(?:template\s*<[^>]*>\s*)?[\w:<>,\s&*]*?[\s&*>]([A-Za-z_][\w:]*)\s*\(", l)
            if not m:
                continue
            name = m.group(1).split("::")[-1]
            if not re.search(r"[\s&*>]" + re.escape(name) + r"\s*\(", headers):
                self.error(b.line + off, f"'{name}' is declared nowhere in include/lamina")

    def headers_text(self):
        if not hasattr(self, "_headers"):
            parts = []
            for root, _, files in os.walk(os.path.join(self.src, "include")):
                for f in files:
                    parts.append(open(os.path.join(root, f), encoding="utf-8", errors="replace").read())
            self._headers = "\n".join(parts)
        return self._headers

    # ---------------------------------------------------------------- shell

    def commands(self, b):
        """The commands of a shell or console block, one list of words each."""
        lines = b.text.split("\n")
        if b.lang in CONSOLE:
            lines = [l[2:] if l.startswith("$ ") else "" for l in lines]
        joined, first = [], None
        buf = ""
        for off, l in enumerate(lines):
            if first is None:
                first = off
            if l.rstrip().endswith("\\"):
                buf += l.rstrip()[:-1] + " "
                continue
            buf += l
            joined.append((b.line + first, buf))
            buf, first = "", None
        result = []
        for line, text in joined:
            # "# ... as of 7a2b501": a command recorded with a past version of
            # the repository, checked against that version.
            as_of = re.search(r"#.*\bas of ([0-9a-f]{7,40})\b", text)
            try:
                words = shlex.split(text, comments=True, posix=True)
            except ValueError as e:
                self.error(line, f"cannot split this command into words: {e}")
                continue
            # shlex keeps ; && || | glued to words: split them off.
            command = []
            for w in words:
                for p in re.split(r"(&&|\|\||;|\|)$", w):
                    if p in ("&&", "||", ";", "|"):
                        if command:
                            result.append((line, command, as_of and as_of.group(1)))
                        command = []
                    elif p:
                        command.append(p)
            if command:
                result.append((line, command, as_of and as_of.group(1)))
        return result

    def check_shell(self, b):
        for line, words, as_of in self.commands(b):
            # Shell keywords and environment assignments before the program.
            while words and (words[0] in ("do", "then", "else", "time", "sudo") or re.match(r"^\w+=", words[0])):
                words = words[1:]
            if not words or words[0] in ("for", "done", "fi", "if", "while", "echo", "cd", "export"):
                continue
            program, rest = words[0], words[1:]
            if COMPILERS.match(os.path.basename(program)) and "-o" in rest[:-1]:
                self.built.add(rest[rest.index("-o") + 1])
            if program.startswith("./") and program[2:] in self.built:
                continue  # what an earlier compile command of the page built
            for w in words:
                self.check_build_output(line, w)
                self.check_source_path(line, w)
            target = self.target_of(program)
            if target:
                if self.is_target(target[1], target[0]):  # else check_build_output said so
                    self.check_flags(line, target, rest)
            elif "/" in program and not program.startswith("/") and not is_build_path(program):
                path = os.path.join(self.src, program)
                if not os.path.isfile(path):
                    self.error(line, f"'{program}' does not exist in the repository")
                elif not os.access(path, os.X_OK):
                    self.error(line, f"'{program}' is not executable")
                else:
                    self.check_script_flags(line, program, rest, as_of)
            elif os.path.basename(program) == "cmake":
                self.check_cmake_command(line, rest)
            elif os.path.basename(program) == "ctest":
                self.check_ctest_command(line, rest)
            elif os.path.basename(program).startswith("python") and rest and rest[0].endswith(".py"):
                if not os.path.isfile(os.path.join(self.src, rest[0])):
                    self.error(line, f"'{rest[0]}' does not exist in the repository")
                else:
                    self.check_script_flags(line, rest[0], rest[1:], as_of)
            elif COMPILERS.match(os.path.basename(program)) and not as_of:
                # (A compile command "as of" a past commit records a measurement.)
                self.run_compile_command(line, words)

    def check_build_output(self, line, word):
        """build*/DIR/NAME must be a target that DIR/CMakeLists.txt defines."""
        m = re.match(r"^build[\w.-]*/(.+)/([\w.-]+)$", word)
        if not m or not os.path.isfile(os.path.join(self.src, m.group(1), "CMakeLists.txt")):
            return
        if not self.is_target(m.group(2), m.group(1)):
            self.error(line, f"'{word}': {m.group(1)}/CMakeLists.txt defines no target '{m.group(2)}'")

    def check_source_path(self, line, word):
        """A path into the repository's own folders (data/, docs/, ...) must exist."""
        if "*" in word or "{" in word or "<" in word:
            return
        first = word.split("/")[0]
        if "/" in word and first in ("data", "docs", "examples", "include", "scripts", "tests", "benchmarks", "cmake"):
            if not os.path.exists(os.path.join(self.src, word)):
                self.error(line, f"'{word}' does not exist in the repository")

    def target_of(self, program):
        """The example, benchmark or test a program word runs, as (dir, name), or None."""
        m = re.match(r"^(?:\./)?build[\w.-]*/(.+)/([\w.-]+)$", program)
        if m and os.path.isfile(os.path.join(self.src, m.group(1), "CMakeLists.txt")):
            return (m.group(1), m.group(2))
        if "/" not in program and os.path.isfile(os.path.join(self.src, "examples", program + ".cpp")):
            return ("examples", program)
        return None

    def cmake_text(self, directory):
        path = os.path.join(self.src, directory, "CMakeLists.txt")
        return open(path, encoding="utf-8").read() if os.path.isfile(path) else ""

    def is_target(self, name, directory=None):
        dirs = [directory] if directory else self.cmake_dirs()
        for d in dirs:
            text = self.cmake_text(d)
            if re.search(r"\b(add_executable|add_library|add_custom_target|lamina_add_\w+)\(\s*" + re.escape(name)
                         + r"[\s)]", text):
                return True
            # Folders whose CMakeLists makes one target per source file.
            if "file(GLOB" in text and os.path.isfile(os.path.join(self.src, d, name + ".cpp")):
                return True
        return False

    def cmake_dirs(self):
        dirs = []
        for root, subdirs, files in os.walk(self.src):
            subdirs[:] = [s for s in subdirs if not s.startswith(("build", ".")) and s != "data"]
            if "CMakeLists.txt" in files:
                dirs.append(os.path.relpath(root, self.src))
        return dirs

    def help_of(self, target):
        """What the example prints for --help, or its sources when it is not built."""
        directory, name = target
        if target in self.help_cache:
            return self.help_cache[target]
        text = None
        if directory == "examples" and name in self.examples:
            if not os.path.isfile(self.examples[name]):
                self.errors.append(f"{self.examples[name]} is not built: the docs test reads its --help "
                                   f"(cmake --build <build> --target {name})")
                text = ""
            else:
                r = subprocess.run([self.examples[name], "--help"], capture_output=True, text=True)
                text = r.stdout + r.stderr
        elif directory == "examples":
            # Not built here (LAMINA_BUILD_EXAMPLES=OFF): the flags in its
            # source, whose usage string comes first, and in the shared headers.
            parts = []
            for f in [name + ".cpp"] + sorted(os.listdir(os.path.join(self.src, "examples"))):
                if f.endswith(".hpp") or f == name + ".cpp":
                    parts.append(open(os.path.join(self.src, "examples", f), encoding="utf-8").read())
            text = "\n".join(parts)
        self.help_cache[target] = text
        return text

    def check_flags(self, line, target, args):
        directory, name = target
        if directory == "benchmarks":
            source = os.path.join(self.src, "benchmarks", name + ".cpp")
            text = open(source, encoding="utf-8").read() if os.path.isfile(source) else ""
            for a in args:
                flag = a.split("=")[0]
                # Google Benchmark's own flags, and the benchmark's if it has any.
                if flag.startswith("--") and not flag.startswith("--benchmark_") and flag not in text:
                    self.error(line, f"{name} takes no flag {flag}")
            return
        help_text = self.help_of(target)
        if help_text is None:
            return
        for i, a in enumerate(args):
            if not a.startswith("--"):
                continue
            flag, eq, value = a.partition("=")
            if not re.search(re.escape(flag) + r"(?![\w-])", help_text):
                self.error(line, f"{name} does not accept {flag} (not in its --help)")
                continue
            if not eq and i + 1 < len(args) and not args[i + 1].startswith("--"):
                value = args[i + 1]
            choices = re.search(r"\[" + re.escape(flag) + r" ([\w.-]+(?:\|[\w.-]+)+)\]", help_text)
            if choices and value and value not in choices.group(1).split("|"):
                self.error(line, f"{name} {flag} takes {choices.group(1)}, not '{value}'")

    def check_script_flags(self, line, script, args, as_of=None):
        if as_of:
            r = subprocess.run(["git", "-C", self.src, "show", f"{as_of}:{script}"], capture_output=True, text=True)
            if r.returncode != 0:
                self.skips.append(f"{self.page}:{line}: {script} as of {as_of} is not in this checkout's history, "
                                  f"so its flags are not checked")
                return
            text = r.stdout
        else:
            text = open(os.path.join(self.src, script), encoding="utf-8", errors="replace").read()
        for a in args:
            flag = a.split("=")[0]
            if flag.startswith("--") and not re.search(re.escape(flag) + r"(?![\w-])", text):
                self.error(line, f"{script} takes no flag {flag}")

    def cache_options(self):
        """LAMINA_* cache variables of the top-level CMakeLists.txt: name -> allowed values (None: any)."""
        text = self.cmake_text(".")
        options = {m.group(1): CMAKE_BOOL for m in re.finditer(r"\boption\(\s*(\w+)", text)}
        for m in re.finditer(r"\bset\(\s*(\w+)\s+[^)]*\bCACHE\b", text):
            options.setdefault(m.group(1), None)
        for m in re.finditer(r"set_property\(\s*CACHE\s+(\w+)\s+PROPERTY\s+STRINGS\s+([^)]*)\)", text):
            options[m.group(1)] = set(shlex.split(m.group(2)))
        return options

    def check_cmake_command(self, line, args):
        options = self.cache_options()
        for i, a in enumerate(args):
            if a.startswith("-D"):
                name, _, value = a[2:].partition("=")
                name = name.split(":")[0]
                if name.startswith("CMAKE_"):
                    continue
                if name not in options:
                    self.error(line, f"-D{name}: CMakeLists.txt has no such option")
                elif options[name] is not None and value.upper() not in {v.upper() for v in options[name]}:
                    self.error(line, f"-D{name}={value}: not one of {sorted(options[name])}")
            if a == "--target" and i + 1 < len(args):
                for t in args[i + 1].split(","):
                    if not self.is_target(t):
                        self.error(line, f"--target {t}: no CMakeLists.txt defines it")

    def check_ctest_command(self, line, args):
        labels = set()
        for d in self.cmake_dirs():
            for f in os.listdir(os.path.join(self.src, d)):
                if f == "CMakeLists.txt" or f.endswith(".cmake"):
                    text = open(os.path.join(self.src, d, f), encoding="utf-8").read()
                    labels |= set(re.findall(r"\bLABELS\s+\"?([\w-]+)", text))
        def selects_some(pattern):
            # ctest reads -L as a regular expression: '^mpi$' picks the label mpi.
            try:
                return pattern in labels or any(re.search(pattern, label) for label in labels)
            except re.error:
                return False

        for i, a in enumerate(args):
            if a in ("-L", "-LE") and i + 1 < len(args) and not selects_some(args[i + 1]):
                self.error(line, f"{a} {args[i + 1]}: no test has that label (labels: {', '.join(sorted(labels))})")

    def run_compile_command(self, line, words):
        """Runs a documented compiler command as written, from a copy of the
        repository root, on the program of the page it names (marked
        <!-- docs-test: program NAME.cpp -->), with the user's warning flags
        added; it must compile and link without a diagnostic. -O0 comes
        last and wins over the command's own level: optimising would cost
        compile time and check nothing more."""
        sources = [w for w in words if w.endswith((".cpp", ".cc", ".cxx"))]
        for s in sources:
            if s not in self.named_programs:
                self.error(line, f"'{s}': no C++ block of this page is marked <!-- docs-test: program {s} -->")
                return
        dirs = []
        for i, w in enumerate(words):
            if w in ("-I", "-isystem") and i + 1 < len(words):
                dirs.append(words[i + 1])
            elif w.startswith("-I"):
                dirs.append(w[2:])
            elif w.startswith("-isystem") and len(w) > len("-isystem"):
                dirs.append(w[len("-isystem"):])
        absent = [d for d in dirs if os.path.isabs(d) and not os.path.isdir(d)]
        if shutil.which(words[0]) is None:
            absent.append(words[0])
        if absent:
            self.skips.append(f"{self.page}:{line}: the documented command is not run here: "
                              f"{', '.join(absent)} does not exist on this machine")
            return
        run_dir = os.path.join(self.args.work_dir, f"command-{line}")
        shutil.rmtree(run_dir, ignore_errors=True)
        os.makedirs(run_dir)
        for entry in os.listdir(self.src):
            if not entry.startswith(("build", ".")):
                os.symlink(os.path.join(self.src, entry), os.path.join(run_dir, entry))
        for s in sources:
            # The program with every header the page's blocks include in front,
            # so the command is shown to find all of them.
            with open(os.path.join(run_dir, s), "w", encoding="utf-8") as f:
                f.write("\n".join(self.includes) + f'\n#line {self.named_programs[s].line} "{self.page}"\n'
                        + self.named_programs[s].text + "\n")
        cmd = words + USER_WARNINGS + ["-O0"]
        print("running the page's command:", " ".join(shlex.quote(c) for c in cmd), flush=True)
        r = subprocess.run(cmd, cwd=run_dir, capture_output=True, text=True)
        output = (r.stdout + r.stderr).strip()
        if r.returncode != 0 or output:
            lines = output.split("\n")
            warnings = sum(1 for l in lines if ": warning:" in l)
            shown = "\n".join(lines[:40]) + (f"\n... ({len(lines) - 40} more lines)" if len(lines) > 40 else "")
            self.error(line, f"the command {'fails' if r.returncode else 'prints diagnostics'} "
                       f"(exit {r.returncode}, {warnings} warnings) with {' '.join(USER_WARNINGS)} -O0 added:\n{shown}")

    # ---------------------------------------------------------------- cmake

    def check_cmake_block(self, b):
        text = self.cmake_text(".")
        for off, l in enumerate(b.text.split("\n")):
            for t in re.findall(r"\blamina::(\w+)", l):
                if not re.search(r"add_library\(\s*lamina::" + t + r"\b", text):
                    self.error(b.line + off, f"lamina::{t}: CMakeLists.txt defines no such target")
            for o in re.findall(r"\b(LAMINA_\w+)", l):
                if o not in self.cache_options():
                    self.error(b.line + off, f"{o}: CMakeLists.txt has no such option")
            m = re.search(r"\bfind_package\(\s*(\w+)", l)
            if m and m.group(1).lower() == "lamina" and not os.path.isfile(
                    os.path.join(self.src, "cmake", m.group(1) + "Config.cmake.in")):
                self.error(b.line + off, f"find_package({m.group(1)}): no cmake/{m.group(1)}Config.cmake.in")

def split_list(text):
    return [x for x in (text or "").split("|") if x]


def is_build_path(word):
    return re.match(r"^(\./)?build[\w.-]*/", word) is not None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("page")
    p.add_argument("--source-dir", required=True)
    p.add_argument("--work-dir", required=True)
    p.add_argument("--cxx", required=True)
    p.add_argument("--include-dirs", default="")
    p.add_argument("--compile-options", default="")
    p.add_argument("--link-options", default="")
    p.add_argument("--example", action="append", default=[], help="NAME=PATH of a built example")
    args = p.parse_args()

    c = Checker(args)
    blocks, contexts = c.parse()
    c.check_cpp(blocks, contexts)
    for b in blocks:
        if b.marker is not None and b.lang not in CPP:
            c.error(b.line - 1, f"docs-test markers are for C++ blocks, not {b.lang or 'unlabelled'} ones")
        if b.lang in CPP or b.lang in SHOWN_ONLY:
            continue
        if b.lang in SHELL or b.lang in CONSOLE:
            c.check_shell(b)
        elif b.lang in CMAKE:
            c.check_cmake_block(b)
        elif b.lang == "":
            c.error(b.line - 1, "a code block without a language: write ```text for output, or the "
                    "language (cpp, sh, console, cmake, python, ...)")
        else:
            c.error(b.line - 1, f"code blocks in '{b.lang}' are not checked; use text if it is not run")

    counts = {}
    for b in blocks:
        counts[b.lang or "(none)"] = counts.get(b.lang or "(none)", 0) + 1
    print(f"{c.page}: {len(blocks)} blocks (" + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) + ")")
    errors = list(dict.fromkeys(c.errors))  # a word can fail two checks the same way
    for e in errors:
        print("error: " + e, file=sys.stderr)
    if errors:
        print(f"{c.page}: {len(errors)} problems", file=sys.stderr)
        return 1
    for s in c.skips:
        print("skipped: " + s)
    return SKIP if c.skips else 0


if __name__ == "__main__":
    sys.exit(main())
