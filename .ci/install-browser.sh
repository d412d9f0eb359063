#!/bin/sh
# Install headless Chromium for tests/report/test_report_browser.py (Debian/Ubuntu, as root).
# Idempotent; never fails the CI run: without a browser the browser test skips with a reason.
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || (
    export DEBIAN_FRONTEND=noninteractive
    apt-get update && apt-get install -y --no-install-recommends chromium
) || echo ".ci/install-browser.sh: could not install chromium; the browser test will be skipped" >&2
exit 0
