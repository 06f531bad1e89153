"""Feed cost at scale (issue #12): render every format of an N-name version (default 100,000; `python
bench/bench_feed.py 1000000` for the issue's target), sign its manifest, the client's verification, and whole
`isp-feed pull` runs (a separate process: the client's wheel installed in a fresh virtualenv, as an ISP runs it,
against the stand-in feed server on loopback): the first load (manifest, list and rpz downloaded whole), one more
name (manifest and delta only, spliced into the kept files), and a re-issue (manifest only). Beside them, in the
same run, what an ISP does by hand for the same rpz: `curl` and `minisign -V` (urllib when curl is missing). Prints
figures: time and peak RSS of each."""

from __future__ import annotations

import datetime as dt
import hashlib
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from isp_feed_client import delta, formats, manifest, signing, trust  # noqa: E402
from tests.support.client_wheel import install_client  # noqa: E402
from tests.support.feed_server import feed_server, make_version, manifest_for, sign_manifest  # noqa: E402


def _entries(n: int) -> tuple[formats.FeedEntry, ...]:
    return tuple(formats.FeedEntry(f"site-{i:07d}.test", f"site-{i:07d}.test",
                                   "exact" if i % 5 == 0 else "domain_and_subdomains") for i in range(n))


def _peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


# Run each command under a small wrapper process: a child forked straight from this big process would report this
# process's pages as its own peak. RUSAGE_CHILDREN's peak is that of the largest descendant waited for.
_MEASURE = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "sys.stderr.write(r.stdout + r.stderr); sys.exit(r.returncode) if r.returncode else "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")

_URLLIB_GET = ("import sys, urllib.request; r = urllib.request.Request(sys.argv[1], headers={'Authorization': "
               "'Bearer ' + sys.argv[2]}); open(sys.argv[3], 'wb').write(urllib.request.urlopen(r).read())")


def _measured(command: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of a command."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, cwd=ROOT, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"{command[:4]}... failed: {result.stderr[-2000:]}")
    return elapsed, int(result.stdout) / 1024


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    version = formats.FeedVersion(1, now, _entries(n), "stop.blocklist.example", "192.0.2.80", "2001:db8::80")
    key = signing.SecretKey.generate()
    started = time.perf_counter()
    bodies = formats.render_all(version)
    rendered = time.perf_counter()
    m = manifest_for(version, bodies)
    data, signature = sign_manifest(m, key)
    signed = time.perf_counter()
    print(f"{n} names: render all {len(bodies)} formats {rendered - started:.2f} s, hash them + sign the manifest "
          f"{signed - rendered:.2f} s ({len(data)} bytes), sizes (MB): "
          + ", ".join(f"{ext}={len(b) / 1e6:.1f}" for ext, b in bodies.items()))
    started = time.perf_counter()
    verified, _ = trust.verify_manifest(data, signature, [key.public_key()])
    trust.check_file("rpz", verified.files["rpz"], sha256=hashlib.sha256(bodies["rpz"]).hexdigest(),
                     size=len(bodies["rpz"]))
    print(f"verify the manifest + the rpz by its hash: {time.perf_counter() - started:.2f} s")
    del bodies
    print(f"render/sign process peak RSS: {_peak_mib(resource.RUSAGE_SELF):.0f} MiB")

    with feed_server(key=key) as feed, tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        (tmp / "feed.pub").write_text(feed.public_key_text())
        # The client as an ISP runs it: installed from its wheel (compiled modules), not this checkout's sources.
        client = install_client(tmp / "client") / "bin" / "isp-feed"
        command = [str(client), "pull", "--server", feed.url, "--token", feed.token,
                   "--pubkey", str(tmp / "feed.pub"), "--state-dir", str(tmp / "state"), "--out",
                   str(tmp / "feed.rpz"), "--reload", "true"]
        feed.publish(make_version(1, version.entries))
        one_more = formats.FeedEntry("one-more.test", "one-more.test", "exact")
        runs: list[tuple[str, str, Callable[[], object]]] = [("first load", "whole list + rpz", lambda: None),
                ("one more name", "manifest + delta", lambda: feed.publish(
                    make_version(2, (*version.entries, one_more)), step=delta.Delta(1, 2, (one_more,), ()))),
                ("re-issue", "manifest only", feed.reissue)]
        for label, what, prepare in runs:
            prepare()
            fetched = len(feed.fetches)
            elapsed, peak = _measured(command)
            paths = [path.split("/")[-1] for path, _ in feed.fetches[fetched:]]
            print(f"isp-feed pull, {label} ({feed.manifests[feed.latest or 0].count} names, rpz, {what}): "
                  f"{elapsed:.2f} s, peak RSS {peak:.0f} MiB; fetched {', '.join(paths)}")

        # The same rpz by hand, as an ISP without the client would take it.
        rpz_url = f"{feed.url}/feed/v1/versions/1.rpz"
        got, sig, pub = tmp / "hand.rpz", tmp / "hand.rpz.minisig", key.public_key().to_base64()
        minisign = shutil.which("minisign")
        curl = shutil.which("curl")
        if curl:
            get = [f"{curl} -sSf -H {shlex.quote('Authorization: Bearer ' + feed.token)} -o {{out}} {{url}}"]
            tool = "curl"
        else:
            get = [f"{shlex.quote(sys.executable)} -c {shlex.quote(_URLLIB_GET)} {{url}} {feed.token} {{out}}"]
            tool = "urllib"
        steps = [get[0].format(out=got, url=rpz_url), get[0].format(out=sig, url=rpz_url + ".minisig")]
        if minisign:
            steps.append(f"{minisign} -Vq -P {pub} -m {got}")
            tool += " + minisign -V"
        elapsed, peak = _measured(["sh", "-c", " && ".join(steps)])
        assert got.read_bytes() == feed.files["versions/1.rpz"]
        print(f"by hand, {tool} of the same rpz ({got.stat().st_size / 1e6:.1f} MB): {elapsed:.2f} s, "
              f"peak RSS {peak:.0f} MiB")
        assert manifest.manifest_sha256(feed.manifest_bytes()) == trust.verify_manifest(
            feed.manifest_bytes(), feed.files[f"versions/{feed.latest}.manifest.json.minisig"], [key.public_key()])[1]


if __name__ == "__main__":
    main()
