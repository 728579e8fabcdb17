"""Screenshots of every registered reporter's HTML page, for docs/rendering.md.

For each reporter the host knows (so a reporter added later is covered without a change here),
the report is run over real complaints (tweets to US airlines from ../shared/datasets, imported
into a temporary store as the rendering tests do; the ``sla`` report over the handled example
complaints of examples/reports_demo.py, which have SLA policies), rendered as HTML and
photographed by headless Chromium into docs/images/report-<name>.png: 1200 pixels wide, cut
below the end of the page, with a 256-colour palette to keep the files small.

    make docs-images              # or: .venv/bin/python docs/screenshots.py [--lang zh]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from PIL import Image, ImageChops  # noqa: E402

from browser_support import chromium, screenshot  # noqa: E402
from complaintkit import Config, Desk, make_host  # noqa: E402
from complaintkit.storage import ComplaintFilter  # noqa: E402
from conftest import datasets_dir  # noqa: E402
from rendering_support import NOW, build_store  # noqa: E402

EXAMPLES = REPO / "examples"
#: Reports photographed over the demo store of examples/reports_demo.py (the tweets have no
#: SLA policies), as of the instant that store is swept.
DEMO_REPORTS = frozenset({"sla"})
DEMO_NOW = datetime(2026, 11, 6, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
WIDTH = 1200
#: The tallest page photographed; longer pages are cut here.
MAX_HEIGHT = 9000


def demo_desk(folder: Path) -> Desk:
    """The handled example complaints of examples/reports_demo.py, with their SLA policies."""
    spec = importlib.util.spec_from_file_location("reports_demo", EXAMPLES / "reports_demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(folder)
    path = EXAMPLES / "process.toml"
    config = Config(
        path=path,
        store=f"tinydb://{folder / 'complaints.json'}",
        data=tomllib.loads(path.read_text(encoding="utf-8")),
        timezone="Asia/Shanghai",
    )
    host = make_host(config, env={})
    return Desk(host, host.open_store())


def crop_to_page(png: Path) -> None:
    """Cut the screenshot just below the page's last content and store it with a palette."""
    image = Image.open(png).convert("RGB")
    background = Image.new("RGB", image.size, image.getpixel((image.width - 1, image.height - 1)))
    box = ImageChops.difference(image, background).getbbox()
    bottom = min(image.height, (box[3] if box else image.height) + 24)
    image.crop((0, 0, image.width, bottom)).quantize(colors=256).save(png, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default="en", choices=["en", "zh"])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    args = parser.parse_args(argv)
    if chromium() is None:
        print("chromium is missing: apt-get install chromium fonts-noto-cjk", file=sys.stderr)
        return 1
    tweets = datasets_dir() / "twitter_airline_sentiment" / "tweets.csv"
    if not tweets.exists():
        print(f"data set {tweets} is missing", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.lang == "en" else f"-{args.lang}"
    with tempfile.TemporaryDirectory(prefix="ck-screenshots-") as folder:
        desk = build_store(tweets, Path(folder) / "tweets.json")
        html = desk.host.report_format("html")
        context = desk.report_context(lang=args.lang, now=NOW)
        demo = demo_desk(Path(folder) / "demo")
        try:
            for name, reporter in desk.host.reporters().items():
                if name in DEMO_REPORTS:
                    demo_context = demo.report_context(lang=args.lang, now=DEMO_NOW)
                    report = reporter.run(demo.store, ComplaintFilter(), demo_context)
                else:
                    report = reporter.run(desk.store, ComplaintFilter(), context)
                page = Path(folder) / f"{name}.html"
                page.write_text(str(html.render(report, args.lang)), encoding="utf-8")
                png = args.out / f"report-{name}{suffix}.png"
                screenshot(page, png, width=WIDTH, height=MAX_HEIGHT)
                crop_to_page(png)
                size = Image.open(png).size
                print(f"{png}: {size[0]}x{size[1]}, {png.stat().st_size:,} bytes")
        finally:
            desk.store.close()
            demo.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
