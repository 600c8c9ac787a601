# The end-to-end test in a real browser (headless Chromium).
#
# tests/browser/test_login_flow.py drives the whole login flow as a user
# goes through it (protected page, login page, wrong and right password with
# "Remember me", browser restart, logout) against the stack of
# `scripts/dev test` (AUTHGATE_TEST_URL, AUTHGATE_TEST_DB), and saves the
# login page at desktop and phone sizes in <build>/browser-screenshots/.
#
# Needs Debian's chromium, chromium-driver and python3-selenium (scripts/dev
# deps). Debian's python3 is the one that sees python3-selenium, whatever
# python3 comes first on PATH (pyenv and the like), hence the full path.
#
# It runs for build/ and for build-asan/ alike: a few seconds each, and the
# sanitizer build is where the daemon's parsers meet a real browser's
# requests (Sec-Fetch-*, Sec-CH-UA, Origin, several cookies).
set(AUTHGATE_BROWSER_PYTHON /usr/bin/python3 CACHE FILEPATH
  "Python 3 with selenium, for the browser test (Debian: python3-selenium)")

add_test(NAME browser.login_flow
  COMMAND ${AUTHGATE_BROWSER_PYTHON}
          ${CMAKE_SOURCE_DIR}/tests/browser/test_login_flow.py
          --out ${CMAKE_CURRENT_BINARY_DIR}/browser-screenshots
  WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(browser.login_flow PROPERTIES
  LABELS browser
  # About 12 s; the limit only bounds a hung browser.
  TIMEOUT 120)
