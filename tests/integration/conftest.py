"""pytest glue: one Lab (simulator + pcscd) per test, logs on failure."""

import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import harness  # noqa: E402


@pytest.fixture(scope="session")
def cfg():
    c = harness.Config()
    if c.problems:
        pytest.fail("integration set-up incomplete:\n  " + "\n  ".join(c.problems),
                    pytrace=False)
    return c


@pytest.fixture(scope="session")
def session_dir():
    keep = os.environ.get("OPENCCID_IT_KEEP")  # keep per-test logs if set
    d = tempfile.mkdtemp(prefix="openccid-it-", dir=os.environ.get("OPENCCID_IT_TMPDIR"))
    sockdir = os.path.join(d, "pcscd-socket")
    os.mkdir(sockdir)
    # libpcsclite reads PCSCLITE_CSOCK_NAME once per process and caches it,
    # so the in-process pyscard client needs one stable path: each test
    # bind-mounts its private run dir there (harness.Lab.start).
    os.environ["PCSCLITE_CSOCK_NAME"] = os.path.join(sockdir, "pcscd.comm")
    # Profiles generated from reader facts (harness.GENERATED_PROFILES).
    os.makedirs(os.path.join(d, "profiles"))
    os.environ["OPENCCID_IT_PROFILE_CACHE"] = os.path.join(d, "profiles")
    yield d
    if not keep:
        shutil.rmtree(d, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    lab = getattr(item, "openccid_lab", None)
    if lab is not None and rep.failed:
        rep.sections.append(("openccid logs (%s)" % rep.when, lab.log_tails()))


@pytest.fixture
def lab(request, cfg, session_dir):
    """Factory: lab.start(profile=..., cards=[...]) -> started Lab."""
    holder = {}

    class Factory:
        def start(self, profile="default", cards=None, **kw):
            if "lab" in holder:
                raise harness.HarnessError("one Lab per test")
            lb = harness.Lab(cfg, request.node.name, os.path.join(session_dir, "pcscd-socket"),
                             base_tmp=session_dir)
            holder["lab"] = lb
            request.node.openccid_lab = lb
            return lb.start(profile=profile, cards=cards, **kw)

    yield Factory()
    lb = holder.get("lab")
    if lb is not None:
        problems = lb.stop()
        if problems:
            pytest.fail("teardown found problems:\n  " + "\n  ".join(problems)
                        + "\n" + lb.log_tails(40), pytrace=False)
