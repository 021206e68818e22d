"""Start-up: every init failure reported like awslambdaric, sys.path like the managed runtime."""

import json
import re

import pytest

from runtime_harness import both

CASES = {
    # name: (handler string, module source, extra files)
    "malformed": ("apphandler", "def handler(e, c):\n    return 1\n", {}),
    "builtin": ("sys.handler", "def handler(e, c):\n    return 1\n", {}),
    "missing_module": ("nope.handler", "", {}),
    "import_error_inside": ("app.handler", "import not_a_module_xyz\ndef handler(e, c):\n    return 1\n", {}),
    "syntax": ("app.handler", "def handler(e, c)\n    return 1\n", {}),
    "missing_function": ("app.nothere", "def handler(e, c):\n    return 1\n", {}),
    "toplevel_raise": ("app.handler", "raise ValueError('at import \\u00e9')\ndef handler(e, c):\n    return 1\n", {}),
    "not_a_package": ("app.handler.extra", "def handler(e, c):\n    return 1\n", {}),
    "slashes": ("pkg/sub/mod.nothere", "", {"pkg/__init__.py": "", "pkg/sub/__init__.py": "", "pkg/sub/mod.py": "x = 1\n"}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_init_errors_match_the_reference(serve, case):
    handler, source, files = CASES[case]
    fns = both(serve, source, handler=handler, files=files)
    posted = {}
    for name, fn in fns.items():
        assert fn.wait() == 1, fn.stderr
        posted[name] = fn.emu.init_error
        assert posted[name] is not None, fn.stdout + fn.stderr
    ours, ref = json.loads(posted["fastrt"].body), json.loads(posted["awslambdaric"].body)
    root_f, root_r = fns["fastrt"].task_root, fns["awslambdaric"].task_root
    norm = lambda d: json.loads(json.dumps(d).replace(root_f, "ROOT").replace(root_r, "ROOT"))
    ours, ref = norm(ours), norm(ref)
    assert ours["errorType"] == ref["errorType"]
    assert ours["errorMessage"] == ref["errorMessage"]
    assert ours["requestId"] == ref["requestId"] == ""
    if case in ("syntax", "malformed", "builtin", "missing_module", "missing_function", "import_error_inside"):
        assert ours["stackTrace"] == ref["stackTrace"]
    else:
        # Frames of importlib differ by design (fastrt imports from its own module); the
        # user's frames, last, are the same.
        assert ours["stackTrace"][-1:] == ref["stackTrace"][-1:]
    # The warning and the error record reach stdout in the same shape.
    for name, fn in fns.items():
        out = fn.stdout
        assert "LAMBDA_WARNING: Unhandled exception." in out, (name, out)
        assert "[ERROR] " + ours["errorType"] in out.replace(root_f, "ROOT").replace(root_r, "ROOT")
    header = posted["fastrt"].headers["lambda-runtime-function-error-type"]
    assert header == posted["awslambdaric"].headers["lambda-runtime-function-error-type"] or header.startswith(
        ("Runtime.", "Function.")
    )


def test_exit_at_import_passes_through(serve):
    fns = both(serve, "import sys\nsys.exit(7)\n")
    for fn in fns.values():
        assert fn.wait() == 7
        assert fn.emu.init_error is None


def test_handler_is_imported_during_init_not_at_first_event(serve):
    fn = serve("print('imported once', flush=True)\ndef handler(e, c):\n    return 'ok'\n")
    fn.emu.wait_for_next(timeout=20)
    assert "imported once" in fn.stdout
    assert json.loads(fn.invoke({}).body) == "ok"
    assert fn.stdout.count("imported once") == 1


def test_sys_path_like_the_managed_runtime(serve, tmp_path):
    layer = tmp_path / "opt"
    (layer / "python").mkdir(parents=True)
    (layer / "python" / "layermod.py").write_text("WHERE = 'layer'\n")
    source = """
import sys, os
import layermod, pthmod
def handler(event, context):
    return {"path": sys.path[:4], "layer": layermod.WHERE, "pth": pthmod.WHERE, "pythonpath": os.environ.get("PYTHONPATH")}
"""
    files = {"extra/pthmod.py": "WHERE = 'pth'\n", "my.pth": "extra\n"}
    fn = serve(source, files=files, env={"FASTRT_LAYER_ROOT": str(layer), "LAMBDA_RUNTIME_DIR": str(tmp_path / "rt")})
    body = json.loads(fn.invoke({}).body)
    assert body["layer"] == "layer" and body["pth"] == "pth"
    v = "%d.%d" % __import__("sys").version_info[:2]
    assert body["path"] == [
        fn.task_root,
        "%s/python/lib/python%s/site-packages" % (layer, v),
        "%s/python" % layer,
        "/var/lang/lib/python%s/site-packages" % v,  # the 3.11+ managed runtimes' boto3, ahead of the stdlib
    ]
    assert body["pythonpath"] == str(tmp_path / "rt")


def test_code_in_the_working_directory_is_found_as_under_python_m_awslambdaric(serve, tmp_path):
    # AWS's pattern for awslambdaric images: the code in the WORKDIR, ENTRYPOINT python -m
    # awslambdaric, while the platform sets LAMBDA_TASK_ROOT=/var/task.
    elsewhere = tmp_path / "var-task"
    elsewhere.mkdir()
    source = "import sys\ndef handler(event, context):\n    return sys.path[:2]\n"
    fns = both(serve, source, env={"LAMBDA_TASK_ROOT": str(elsewhere)})
    paths = {name: json.loads(fn.invoke({}).body) for name, fn in fns.items()}
    assert paths["awslambdaric"][0] == fns["awslambdaric"].task_root
    # fastrt keeps the managed runtime's order: the task root first, the working directory next.
    assert paths["fastrt"] == [str(elsewhere), fns["fastrt"].task_root]


def test_user_pythonpath_means_only_the_task_root_is_added(serve, tmp_path):
    source = "import sys, os\ndef handler(event, context):\n    return [sys.path[0], os.environ['PYTHONPATH']]\n"
    fn = serve(source, env={"PYTHONPATH": str(tmp_path / "mine")})
    first, pythonpath = json.loads(fn.invoke({}).body)
    assert first == fn.task_root and pythonpath == str(tmp_path / "mine")


# prepare_sys_path skips the site.addsitedir calls that would do nothing; the sys.path it
# leaves must be the one of the managed runtime's plain calls (python3.11+'s bootstrap.py:
# three inserts, the task root inserted first, then addsitedir on the same three folders but the
# interpreter's), in every folder state.
_SYS_PATH_AFTER = """
import json, os, site, sys
task_root, opt, mode, on_path_already = sys.argv[1:]
os.environ["FASTRT_LAYER_ROOT"] = opt
os.environ.pop("PYTHONPATH", None)
del sys.path[0]  # python -c's working directory: not what this compares
managed = "/var/lang/lib/python%d.%d/site-packages" % sys.version_info[:2]
if on_path_already == "yes":  # as on Lambda, where it is the interpreter's own site-packages
    sys.path.append(managed)
if mode == "fastrt":
    from fastrt import handler
    handler.prepare_sys_path(os.environ, task_root)
else:
    layer_dirs = ["%s/python/lib/python%d.%d/site-packages" % (opt, *sys.version_info[:2]), opt + "/python"]
    for path in [managed] + layer_dirs[::-1] + [task_root]:
        sys.path.insert(0, path)
    for path in [task_root] + layer_dirs:
        site.addsitedir(path)
print(json.dumps(sys.path))
"""


@pytest.mark.parametrize("state", ["no_layer", "layer_python_only", "pth_everywhere", "hidden_pth_only", "managed_interpreter"])
def test_sys_path_is_that_of_plain_addsitedir_calls(tmp_path, state):
    import subprocess
    import sys

    task_root, opt = tmp_path / "task", tmp_path / "opt"
    task_root.mkdir()
    site_packages = opt / "python" / "lib" / ("python%d.%d" % sys.version_info[:2]) / "site-packages"
    if state != "no_layer":
        (opt / "python").mkdir(parents=True)
    if state == "pth_everywhere":
        site_packages.mkdir(parents=True)
        for folder, name in ((task_root, "a.pth"), (site_packages, "b.pth"), (opt / "python", "c.pth")):
            (folder / ("extra_" + name[0])).mkdir()
            (folder / name).write_text("extra_%s\n" % name[0])
    if state == "hidden_pth_only":
        (task_root / "hidden").mkdir()
        (task_root / ".hidden.pth").write_text("hidden\n")
    paths = {}
    for mode in ("fastrt", "reference"):
        on_path_already = "yes" if state == "managed_interpreter" else "no"
        run = subprocess.run([sys.executable, "-c", _SYS_PATH_AFTER, str(task_root), str(opt), mode, on_path_already],
                             capture_output=True, text=True, cwd=str(tmp_path))
        assert run.returncode == 0, run.stderr
        paths[mode] = json.loads(run.stdout)
    assert paths["fastrt"] == paths["reference"]
    if state == "managed_interpreter":  # the front copy decides, as under the reference
        managed = "/var/lang/lib/python%d.%d/site-packages" % sys.version_info[:2]
        assert paths["fastrt"].index(managed) == 3 and paths["fastrt"].count(managed) == 2
    if state == "pth_everywhere":
        assert str(task_root / "extra_a") in paths["fastrt"] and str(site_packages / "extra_b") in paths["fastrt"]


PREVIEW = {"AWS_EXECUTION_ENV": "AWS_Lambda_python3.15"}


@pytest.mark.parametrize(
    "env, announced",
    [
        (PREVIEW, True),
        (dict(PREVIEW, AWS_REGION="cn-north-1"), True),
        (dict(PREVIEW, AWS_LAMBDA_LOG_FORMAT="JSON"), True),
        (dict(PREVIEW, LAMBDA_DISABLE_PREVIEW_WARN="1"), False),
        ({"AWS_EXECUTION_ENV": "AWS_Lambda_python3.14"}, False),
    ],
    ids=["preview", "china", "json", "disabled", "not-preview"],
)
def test_a_preview_runtime_is_announced_as_by_the_reference(serve, env, announced):
    fns = both(serve, "def handler(e, c):\n    return 1\n", env=env)
    logged = {}
    for name, fn in fns.items():
        assert fn.invoke({}).body == b"1"
        logged[name] = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z", "T", fn.stdout)
    assert logged["fastrt"] == logged["awslambdaric"]
    assert ("This is a preview runtime version" in logged["fastrt"]) == announced
    assert ("docs.amazonaws.cn" in logged["fastrt"]) == ("AWS_REGION" in env)
