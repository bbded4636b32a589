"""What `make package` puts in each function's zip (without downloading the
libraries: their lists come from uv.lock, the files from the checkout)."""

import shutil
import zipfile
from pathlib import Path

import pytest

from scripts import package
from scripts.lambda_imports import ROOT, third_party_imports

HTTP_FUNCTIONS = ["auth", "events", "purchase", "users"]
WEB_FRAMEWORK = {"fastapi", "starlette", "mangum"}


@pytest.fixture(scope="module")
def uv() -> str:
    found = shutil.which("uv") or str(ROOT / ".tools/bin/uv")
    assert Path(found).exists(), "uv is installed by `make`"
    return found


def packaged(uv: str, function: str) -> set[str]:
    return package.requirement_names(package.group_requirements(uv, function))


def test_every_function_folder_is_packaged() -> None:
    assert package.function_names() == [*HTTP_FUNCTIONS, "worker"]


def test_the_worker_package_has_no_web_framework_and_no_boto3(uv: str) -> None:
    libraries = packaged(uv, "worker")

    assert {"pika", "psycopg", "psycopg-pool"} <= libraries
    assert not libraries & (WEB_FRAMEWORK | {"boto3", "botocore"})


@pytest.mark.parametrize("function", HTTP_FUNCTIONS)
def test_http_packages_carry_pika_for_publishing_but_not_boto3(
    uv: str, function: str
) -> None:
    libraries = packaged(uv, function)

    assert WEB_FRAMEWORK | {"pika"} <= libraries
    assert not libraries & {"boto3", "botocore"}


@pytest.mark.parametrize("function", [*HTTP_FUNCTIONS, "worker"])
def test_every_library_a_handler_can_import_is_in_its_package(
    uv: str, function: str
) -> None:
    assert package.missing_libraries(function, packaged(uv, function)) == set()


def test_the_import_check_notices_a_library_left_out() -> None:
    assert "fastapi" in third_party_imports("auth")
    assert "fastapi" in package.missing_libraries("auth", packaged=set())


def test_the_worker_never_imports_the_web_framework() -> None:
    assert not third_party_imports("worker") & WEB_FRAMEWORK


def test_a_zip_holds_its_function_and_shared_but_no_siblings_tests_or_caches(
    tmp_path: Path,
) -> None:
    package.copy_sources("auth", tmp_path / "auth")
    package.write_zip(tmp_path / "auth", tmp_path / "auth.zip")

    names = zipfile.ZipFile(tmp_path / "auth.zip").namelist()

    assert {"functions/__init__.py", "functions/auth/handler.py"} <= set(names)
    assert {"shared/app.py", "shared/queries.sql", "shared/sql/0001_schema.sql"} <= set(
        names
    )
    assert not [n for n in names if n.startswith(("functions/users", "tests", "bench"))]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_packages_leave_out_pydantic_v1_and_keep_the_rest_of_pydantic(
    tmp_path: Path,
) -> None:
    for module in ("pydantic/v1/main.py", "pydantic/main.py"):
        (tmp_path / module).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / module).touch()

    package.prune_libraries(tmp_path)

    assert not (tmp_path / "pydantic" / "v1").exists()
    assert (tmp_path / "pydantic" / "main.py").exists()


def test_the_tests_run_without_pydantic_v1_as_the_packages_do() -> None:
    with pytest.raises(ImportError):
        import pydantic.v1  # noqa: F401


def test_a_zip_depends_only_on_its_content(tmp_path: Path) -> None:
    package.copy_sources("worker", tmp_path / "worker")
    package.write_zip(tmp_path / "worker", tmp_path / "first.zip")
    (tmp_path / "worker" / "shared" / "app.py").touch()
    package.write_zip(tmp_path / "worker", tmp_path / "second.zip")

    first = (tmp_path / "first.zip").read_bytes()

    assert first == (tmp_path / "second.zip").read_bytes()


def test_a_given_interpreter_that_is_not_the_runtime_version_is_refused() -> None:
    with pytest.raises(package.PackagingError, match=r"is not Python 3\.12"):
        package.runtime_python("/nowhere/python3.12")


def test_without_a_runtime_python_nothing_is_built_unless_asked(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(package, "runtime_python", lambda given: None)

    assert package.main(["auth", "--dist", str(tmp_path)]) == 1

    assert "UNCOMPILED=1" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
