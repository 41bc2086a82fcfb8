"""
conftest - pytest fixtures for the integration tests.

	instance		one running `postern dev` for the whole test file
	new_instance		a factory: new_instance() returns a started
				instance, new_instance(start=False) one to
				configure first; all are stopped after the test

When a test fails, its report gains a section with the tail of every live
instance's log, and those instances' directories are kept under /tmp.
"""

import pytest

from postern_instance import LIVE, Instance


@pytest.fixture(scope="module")
def instance():
    inst = Instance()
    try:
        inst.start()
        yield inst
    finally:
        inst.cleanup()


@pytest.fixture
def new_instance():
    made = []

    def make(start=True):
        inst = Instance()
        made.append(inst)
        if start:
            inst.start()
        return inst

    yield make
    for inst in made:
        inst.cleanup()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    for inst in LIVE:
        inst.failed = True
        rep.sections.append((
            "postern instance %s (log %s)" % (inst.dir, inst.log_path),
            inst.log_tail(150)))
