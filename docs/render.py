"""Render pages of the built site with headless Chromium and check they show their figures.

For each page (default: the index and the mtcars gallery page):

1. a screenshot of the page opened as a file (as the README says to open the site) at a
   fixed window size, written to ``docs/_build/screenshots/<page>.png``; checked to be a
   PNG of exactly that size that is not blank (its pixels vary, part of it is not white);
2. the page loaded over HTTP from a server on 127.0.0.1 (started here, stopped at the end)
   inside a same-origin frame, whose script reports, from Chromium's ``--dump-dom``, every
   ``<img>`` (loaded, ``naturalWidth`` > 0) and every resource the page fetched. Checked:
   each image loaded, at least as many images as the page has figures (a gallery page:
   the ``.. figure::`` entries of its source; the index: 1), every resource came from the
   local server (nothing fetched from the network), and the server answered no request
   with an error (no missing stylesheet, script, font or image).

Chromium is Debian's package (``apt-get install -y chromium``), run with a fresh profile
and without any of its own network traffic (sandbox off: CI runs as root)::

    python docs/render.py                       # docs/_build/html, the two default pages
    python docs/render.py --pages index.html gallery/glm_logistic.html

Exit status 0 when every check passed, 1 otherwise (each failure is printed).
"""
from __future__ import annotations

import argparse
import functools
import http.server
import json
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

DOCS = Path(__file__).resolve().parent
DEFAULT_HTML = DOCS / "_build" / "html"
DEFAULT_OUT = DOCS / "_build" / "screenshots"
DEFAULT_PAGES = ("index.html", "gallery/mtcars_fit.html")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  "--disable-extensions", "--mute-audio")
CHECK_PATH = "/__render_check__.html"
# The frame page: loads ?page=... in a same-origin iframe; after its load event (and a
# pause for late images) writes what it found into <pre id="render-check"> as JSON.
CHECK_PAGE = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<pre id="render-check">pending</pre>
<iframe id="f" style="width:1280px;height:6000px;border:0"></iframe>
<script>
const page = new URLSearchParams(location.search).get("page");
const frame = document.getElementById("f");
frame.addEventListener("load", () => setTimeout(() => {
  const w = frame.contentWindow, d = frame.contentDocument;
  const images = Array.from(d.images).map(i => ({src: i.currentSrc || i.src,
      complete: i.complete, naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight}));
  const resources = w.performance.getEntriesByType("resource").map(r => r.name);
  document.getElementById("render-check").textContent = JSON.stringify({
      page: page, title: d.title, origin: location.origin, images: images,
      resources: resources, bodyText: d.body ? d.body.innerText.length : 0});
}, 1500));
frame.src = page;
</script></body></html>"""


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("render.py: no chromium on PATH (Debian: apt-get install -y chromium)")


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files of the built site, the check page, and a record of failed requests."""

    errors: list = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path.split("?")[0] == CHECK_PATH:
            body = CHECK_PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_request(self, code="-", size="-"):
        if str(code).isdigit() and int(code) >= 400 and "favicon" not in self.path:
            self.errors.append(f"{code} {self.path}")

    def log_message(self, *args):
        pass


def serve(root):
    """An HTTP server for ``root`` on 127.0.0.1 (a free port), in a thread."""
    handler = functools.partial(_Handler, directory=str(root))
    _Handler.errors = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def chromium(binary, profile, *args, timeout=120):
    cmd = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def png_size(path):
    """(width, height) from a PNG's IHDR chunk; ValueError if it is not a PNG."""
    head = Path(path).read_bytes()[:24]
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG")
    return struct.unpack(">II", head[16:24])


def png_content(path):
    """(standard deviation of the grey levels, fraction of pixels that are not white)."""
    import matplotlib.image
    img = matplotlib.image.imread(str(path))[..., :3]
    grey = img.mean(axis=2)
    return float(grey.std()), float((grey < 0.97).mean())


def expected_images(page, html):
    """Images the page must show: its figures (gallery pages), 1 on the index."""
    if page.startswith("gallery/") and page != "gallery/index.html":
        src = DOCS / "gallery" / (Path(page).stem + ".rst")
        if src.is_file():
            return len(re.findall(r"^\.\. figure::", src.read_text(), re.M))
    return 1 if page == "index.html" else 0


def check_page(binary, page, html, out, size, base_url):
    """Screenshot and DOM check of one page; returns the list of failures."""
    failures = []
    width, height = size
    shot = out / (page.replace("/", "_").replace(".html", "") + ".png")
    shot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="curvopt-render-") as profile:
        t0 = time.perf_counter()
        proc = chromium(binary, profile, f"--window-size={width},{height}",
                        f"--screenshot={shot}", "--virtual-time-budget=10000",
                        (html / page).resolve().as_uri())
        seconds = time.perf_counter() - t0
    if not shot.is_file() or shot.stat().st_size == 0:
        failures.append(f"{page}: no screenshot (chromium exit {proc.returncode}: "
                        f"{proc.stderr.strip()[-500:]})")
    else:
        got = png_size(shot)
        spread, ink = png_content(shot)
        print(f"{page}: screenshot {shot} {got[0]}x{got[1]}, {shot.stat().st_size} bytes, "
              f"grey std {spread:.3f}, non-white {ink:.1%} ({seconds:.1f} s)")
        if got != (width, height):
            failures.append(f"{page}: screenshot is {got[0]}x{got[1]}, not {width}x{height}")
        if spread < 0.05 or ink < 0.02:
            failures.append(f"{page}: screenshot looks blank (grey std {spread:.3f}, "
                            f"non-white {ink:.1%})")
    with tempfile.TemporaryDirectory(prefix="curvopt-render-") as profile:
        proc = chromium(binary, profile, "--dump-dom", "--virtual-time-budget=15000",
                        f"{base_url}{CHECK_PATH}?page={quote('/' + page)}")
    m = re.search(r'<pre id="render-check">(.*?)</pre>', proc.stdout, re.S)
    if m is None or m.group(1).strip() == "pending":
        return failures + [f"{page}: the check page reported nothing (chromium exit "
                           f"{proc.returncode}: {proc.stderr.strip()[-500:]})"]
    import html as html_lib
    report = json.loads(html_lib.unescape(m.group(1)))
    images = report["images"]
    broken = [i["src"] for i in images if not (i["complete"] and i["naturalWidth"] > 0)]
    external = [r for r in report["resources"] if not r.startswith(report["origin"])]
    want = expected_images(page, html)
    shown = ", ".join("{} {}x{}".format(Path(i["src"]).name, i["naturalWidth"],
                                        i["naturalHeight"]) for i in images) or "none"
    print(f"{page}: title {report['title']!r}; {len(images)} images ({shown}); "
          f"{len(report['resources'])} resources fetched, "
          + (f"external: {external}" if external else f"all from {report['origin']}"))
    if not report["title"] or report["bodyText"] < 200:
        failures.append(f"{page}: no title or almost no text ({report['bodyText']} chars)")
    if broken:
        failures.append(f"{page}: images not loaded: {broken}")
    if len(images) - len(broken) < want:
        failures.append(f"{page}: {len(images) - len(broken)} images loaded, expected >= {want}")
    if external:
        failures.append(f"{page}: fetched from outside the site: {external}")
    return failures


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", type=Path, default=DEFAULT_HTML, help="the built site")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the PNGs go")
    ap.add_argument("--pages", nargs="+", default=list(DEFAULT_PAGES),
                    help="pages to render, relative to --html")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=None,
                    help="window height (default 1600, 3600 for gallery pages)")
    args = ap.parse_args(argv)
    binary = find_chromium()
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    print(f"render.py: {version.strip() or binary}")
    args.out.mkdir(parents=True, exist_ok=True)
    server = serve(args.html)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    failures = []
    try:
        for page in args.pages:
            if not (args.html / page).is_file():
                failures.append(f"{page}: not in {args.html} (build the site first)")
                continue
            height = args.height or (3600 if page.startswith("gallery/") else 1600)
            failures += check_page(binary, page, args.html, args.out, (args.width, height),
                                   base_url)
    finally:
        server.shutdown()
        server.server_close()
    failures += [f"server answered {e}" for e in _Handler.errors]
    for f in failures:
        print(f"FAIL {f}")
    bad = {page for page in args.pages if any(f.startswith(page + ":") for f in failures)}
    bad |= {"server"} if _Handler.errors else set()
    print(f"render check: {len(args.pages) - len(bad & set(args.pages))} passed, "
          f"{len(bad)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
