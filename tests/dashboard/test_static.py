from pathlib import Path

import plotly

from tests.conftest import REPO


def test_the_vendored_plotly_js_is_the_one_the_installed_plotly_ships():
    installed = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    vendored = REPO / "static" / "vendor" / "plotly.min.js"
    assert vendored.read_bytes() == installed.read_bytes(), (
        "static/vendor/plotly.min.js differs from the installed plotly: copy it again (static/vendor/README.md)")
