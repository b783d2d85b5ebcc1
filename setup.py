"""Build steps pyproject.toml cannot declare: compile the translation catalogs
(.po -> .mo) into the build, and ship the app's top-level templates/ and
static/ inside the package (as core/site/templates, core/site/static), so
that `pip install .` gives a complete app; core.app finds them there when
it does not run from a checkout."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithCatalogsAndSite(build_py):
    def run(self):
        super().run()
        build = Path(self.build_lib)
        for name in ("templates", "static"):
            target = build / "core" / "site" / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(HERE / name, target)
        from babel import Locale
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in build.rglob("translations/*/LC_MESSAGES/*.po"):
            locale = str(Locale.parse(po.parent.parent.name))
            mo = po.parent.parent.parent / locale / "LC_MESSAGES" / (po.stem + ".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as f:
                catalog = read_po(f, locale=po.parent.parent.name)
            with mo.open("wb") as f:
                write_mo(f, catalog, use_fuzzy=False)


setup(cmdclass={"build_py": BuildWithCatalogsAndSite})
