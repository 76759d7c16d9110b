"""Every example in README.md runs as written on a fresh clone.

The README's ```sh and ```bash blocks run, in order, in one bash session against a live server started the way
`make run` starts it: `python -m config.serve` (uvicorn) and a django-q2 worker cluster on the embedded default (a SQLite file, local memory,
no test-only resource), migrated and seeded with the demo accounts, here in a temporary directory. Every curl must
answer 2xx (`--fail-with-body`) and every command exit 0. The one change made to the text is the server's address,
since port 8000 may be taken. A ```python block is executed: a declaration registers on a fresh resource site and
must generate its endpoints; a block marked `<!-- readme-test: excerpt of <file> -->` must appear in that file
verbatim. A block marked `<!-- readme-test: skip: <reason> -->` is not run, and must say why.
"""
import re
import subprocess
from dataclasses import dataclass

from apps.api import sites
from apps.api.testing import fresh_site
from tests.servers import ROOT

README = ROOT / "README.md"
FENCE = re.compile(r"(?:<!-- readme-test: (?P<marker>[^\n]*?) -->\n)?```(?P<language>\w*)\n(?P<body>.*?)^```",
                   re.MULTILINE | re.DOTALL)
SHELL = ("sh", "bash")
README_SERVER = "http://127.0.0.1:8000"


@dataclass
class Block:
    language: str
    body: str
    marker: str
    line: int

    @property
    def skipped(self) -> bool:
        return self.marker.startswith("skip")


def readme_blocks() -> list[Block]:
    text = README.read_text()
    return [Block(match["language"], match["body"], match["marker"] or "", text.count("\n", 0, match.start()) + 1)
            for match in FENCE.finditer(text) if match["language"] in (*SHELL, "python")]


def test_every_skipped_block_says_why():
    for block in readme_blocks():
        if block.skipped:
            assert re.fullmatch(r"skip: \S.{10,}", block.marker), f"README line {block.line}: give the reason"


def test_the_shell_examples_run_against_a_live_server(demo_server):
    url, environment, directory = demo_server
    blocks = [block for block in readme_blocks() if block.language in SHELL and not block.skipped]
    script = "\n".join(f"echo '--- README line {block.line}' >&2\n{block.body}" for block in blocks)
    # Any HTTP error fails the run, like any failed command.
    prelude = "set -euo pipefail\ncurl() { command curl --fail-with-body \"$@\"; }\n"
    done = subprocess.run(["bash", "-c", prelude + script.replace(README_SERVER, url)], cwd=directory,
                          env=environment, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, f"{done.stderr[-3000:]}\n{done.stdout[-3000:]}"
    assert len(blocks) >= 4 and '"token_type":"bearer"' in done.stdout.replace(" ", "")
    assert (directory / "data" / "site" / "media" / "hello.txt").exists()


def test_the_python_examples_are_real_code(monkeypatch):
    blocks = [block for block in readme_blocks() if block.language == "python" and not block.skipped]
    assert blocks
    for block in blocks:
        excerpt = re.fullmatch(r"excerpt of (\S+)", block.marker)
        if excerpt:
            assert block.body in (ROOT / excerpt[1]).read_text(), f"README line {block.line} is not in {excerpt[1]}"
            continue
        site = fresh_site()
        monkeypatch.setattr("apps.api.register", lambda *models: sites.register(*models, site=site))
        named = re.match(r"# (\S+\.py)\n", block.body)
        assert named, f"README line {block.line}: name the file (# apps/x/api.py) or mark the block an excerpt"
        path = named[1]
        exec(compile(block.body, f"README.md:{block.line}", "exec"),  # noqa: S102 (the README's own code)
             {"__name__": path[:-3].replace("/", "."), "__package__": path.rsplit("/", 1)[0].replace("/", ".")})
        assert site.urls, f"README line {block.line} declares no resource"
