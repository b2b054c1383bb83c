"""The HTML report: self-contained, and rendered by a real browser (headless Chromium)."""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
import warnings
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gaussmle import GaussianClassifier
from gaussmle.cli import cli
from gaussmle.datasets import make_skittles
from gaussmle.inference import box_m, manova
from gaussmle.report import build_report, write_report
from gaussmle.summary import table_of_tests, training_loglik

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium package is not installed (.ci/run installs it)"
)

#: Only in the test copy of the page: after loading, record each image's natural width and
#: every resource the page asked for (a request to anywhere would be listed, even a failed one).
PROBE = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.map.call(document.images, function (i) {
    return i.complete ? i.naturalWidth : -1;
  });
  var asked = performance.getEntriesByType("resource").map(function (e) { return e.name; });
  document.body.setAttribute("data-probe", JSON.stringify({images: images, asked: asked}));
});
</script>"""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    pd = pytest.importorskip("pandas")
    ds = make_skittles(random_state=3)
    X = pd.DataFrame(ds.X, columns=["aromatic lift", "elegance"])
    model = GaussianClassifier(covariance_type="full").fit(X, ds.y)
    path = root / "report.html"
    write_report(path, model, X, ds.y, title="skittles (QDA)")
    text = path.read_text("utf-8")
    return {"root": root, "path": path, "text": text, "model": model, "ds": ds, "X": X}


def _chromium(root: Path, *args: str) -> subprocess.CompletedProcess:
    profile = root / "chromium-profile"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9",  # and a proxy to nowhere
        "--no-first-run",
        "--hide-scrollbars",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


class _Tables(HTMLParser):
    """The text of every table row (cells) in a document."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _rows(document: str) -> list[list[str]]:
    parser = _Tables()
    parser.feed(document)
    return parser.rows


# ---------------------------------------------------------------------- the file itself
def test_page_is_one_self_contained_file(page):
    text = page["text"]
    assert text.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text
    assert "@media print" in text and "@media (max-width" in text
    assert "<script" not in text.lower() and "<link" not in text.lower()
    outside = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    for link in ("http:", "https:", "//", "href=", "url(", "@import"):
        assert link not in outside, link
    sources = re.findall(r'<img src="([^"]*)" width="(\d+)" height="(\d+)"', text)
    assert len(sources) == text.count("<img") == 7  # densities, decisions, Q-Q, 4 curves
    for src, width, height in sources:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (
            int(width),
            int(height),
        )


def test_page_tables_hold_the_api_numbers(page):
    model, ds = page["model"], page["ds"]
    rows = _rows(page["text"])
    by_first = {}
    for row in rows:
        by_first.setdefault(row[0], []).append(row)
    summary = model.summary(page["X"], ds.y)
    tests = table_of_tests(summary.tests)
    for expected in tests.rows:
        assert list(expected) in by_first[expected[0]]
    box = next(r for r in by_first["Box's M"])
    assert box[2] == f"{box_m(model).statistic:.4g}"
    wilks = manova(model).wilks
    assert by_first["Wilks' lambda"][0][3] == f"{wilks.df[0]:.4g}, {wilks.df[1]:.4g}"
    fit_header = next(r for r in rows if r[:2] == ["rows", "features"])
    fit_values = rows[rows.index(fit_header) + 1]
    loglik = fit_values[fit_header.index("log-likelihood")]
    assert float(loglik) == pytest.approx(training_loglik(model), abs=1e-4)
    assert float(loglik) == pytest.approx(model.loglik(page["X"], ds.y), abs=1e-4)
    first_estimate = next(r for r in rows if r[:2] == ["purple", "aromatic lift"])
    mean = ds.X[ds.y == "purple", 0].mean()
    assert float(first_estimate[2]) == pytest.approx(mean, abs=1e-3)


def test_write_is_atomic_and_replaces(page, tmp_path):
    path = tmp_path / "page.html"
    path.write_text("old")
    write_report(path, page["model"])
    assert path.read_text("utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]
    without_data = path.read_text("utf-8")
    assert "<img" not in without_data and "Give the data" in without_data


# ---------------------------------------------------------------------- in a browser
@needs_chromium
def test_chromium_loads_every_picture_and_asks_for_nothing(page):
    probe_copy = page["root"] / "probe.html"
    probe_copy.write_text(page["text"].replace("</body>", PROBE + "\n</body>"), "utf-8")
    dom = _chromium(
        page["root"], "--virtual-time-budget=10000", "--dump-dom", probe_copy.as_uri()
    ).stdout
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found, dom[:500]
    probe = json.loads(html.unescape(found.group(1)))
    assert len(probe["images"]) == 7 and all(w > 0 for w in probe["images"]), probe["images"]
    assert probe["asked"] == []  # not one request, to the network or anywhere else
    # the browser's DOM holds the same table numbers as the file
    assert _rows(dom) == _rows(page["text"])


@needs_chromium
def test_chromium_screenshots_desktop_and_phone(page):
    from PIL import Image

    for name, size in (("desktop.png", "1000,2400"), ("phone.png", "390,2400")):
        shot = page["root"] / name
        _chromium(
            page["root"], f"--window-size={size}", f"--screenshot={shot}", page["path"].as_uri()
        )
        image = np.asarray(Image.open(shot).convert("L"), dtype=float)
        width = int(size.split(",")[0])
        assert image.shape == (2400, width)
        assert image.std() > 10  # text, tables and pictures, not a blank page
    # on a phone no picture is wider than the screen (images scale with the page)
    assert "max-width: 100%" in page["text"]
    pdf = page["root"] / "printed.pdf"
    _chromium(
        page["root"], f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page["path"].as_uri()
    )
    printed = pdf.read_bytes()
    pages = re.findall(rb"/Type\s*/Page[^s]", printed)
    assert printed.startswith(b"%PDF") and len(pages) > 1  # a long page breaks into sheets


# ---------------------------------------------------------------------- the command
def test_report_command(page, tmp_path):
    model_path = tmp_path / "qda.json"
    data = tmp_path / "skittles.csv"
    from gaussmle.io import write_table

    write_table(data, page["ds"].to_columns())
    runner = CliRunner()
    fit = ["fit", str(data), "--target", "colour", "--covariance", "full", "-o", str(model_path)]
    assert runner.invoke(cli, fit).exit_code == 0
    out = tmp_path / "out.html"
    args = ["report", str(model_path), str(data), "--target", "colour", "-o", str(out)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert out.read_text("utf-8").count("<img") == 7
    bad = runner.invoke(cli, ["report", str(model_path), "--target", "colour", "-o", str(out)])
    assert bad.exit_code == 2 and bad.stderr.startswith("error: --target needs DATA")
    no_folder = runner.invoke(cli, ["report", str(model_path), "-o", "/no/such/dir/x.html"])
    assert no_folder.exit_code == 2 and "does not exist" in no_folder.stderr


def test_build_report_escapes_the_title():
    X = np.array([[0.0, 0.2], [0.4, 0.0], [0.1, 0.5], [3.0, 3.1], [3.5, 2.8], [2.9, 3.6]])
    page = build_report(GaussianClassifier().fit(X, [0, 0, 0, 1, 1, 1]), title="<b>&")
    assert "<title>&lt;b&gt;&amp;: gaussmle report</title>" in page


# ---------------------------------------------------------------------- mixtures
def test_mixture_report_has_its_summary_and_picture(page):
    from gaussmle import GaussianMixture

    X = np.asarray(page["X"], dtype=np.float64)
    gm = GaussianMixture(2, covariance_type="full", random_state=0).fit(X)
    text = build_report(gm, X, title="skittles (mixture)")
    assert text.count("<img") == 1 and "most probable component" in text
    rows = _rows(text)
    fit_header = next(r for r in rows if r[:3] == ["rows", "features", "components"])
    fit_cells = rows[rows.index(fit_header) + 1]
    assert float(fit_cells[4]) == pytest.approx(gm.score(X) * X.shape[0], rel=1e-6)
    assert ["component", "weight", "weighted rows"] in rows
    without_data = build_report(gm)
    assert without_data.count("<img") == 0 and "last E-step" in without_data


def test_report_command_on_a_mixture_file(page, tmp_path):
    from gaussmle.io import write_table

    data = tmp_path / "skittles.csv"
    write_table(data, page["ds"].to_columns())
    model_path = tmp_path / "mixture.json"
    runner = CliRunner()
    cluster = ["cluster", str(data), "-k", "2", "--features", "aromatic lift,elegance"]
    assert runner.invoke(cli, [*cluster, "-o", str(model_path)]).exit_code == 0
    out = tmp_path / "mixture.html"
    with warnings.catch_warnings():  # the rows read are plain arrays: no feature-name warning
        warnings.simplefilter("error", UserWarning)
        result = runner.invoke(cli, ["report", str(model_path), str(data), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text("utf-8").count("<img") == 1
    bad = runner.invoke(
        cli, ["report", str(model_path), str(data), "--target", "colour", "-o", str(out)]
    )
    assert bad.exit_code == 2 and bad.stderr.startswith("error: a mixture has no classes")
