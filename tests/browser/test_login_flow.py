#!/usr/bin/python3
"""End-to-end login flow in a real browser (headless Chromium).

Browsers send what curl does not (Origin, Sec-Fetch-*, SameSite rules,
form encoding, redirects followed after a POST), so this is the proof that
real users get in:

  protected page -> login page ("Please log in first.") -> wrong password
  (401, "Invalid username or password.") -> right password + "Remember me"
  (303) -> back on the original URL with its query, the page shows the user
  -> the session cookie is HttpOnly, SameSite=Lax and persistent -> the
  browser is restarted with the same profile and is still signed in ->
  /auth/logout, "Sign out" -> login page -> the protected page is refused.

It also saves the login page as seen at desktop (1280x800) and phone
(390x844) sizes: login-desktop.png and login-phone.png in the output
directory.

Needs the stack of `scripts/dev stack start DIR` (source DIR/env):
AUTHGATE_TEST_URL and AUTHGATE_TEST_DB. Debian packages: chromium,
chromium-driver, python3-selenium (scripts/dev deps). Run it with Debian's
/usr/bin/python3, which is the one that sees python3-selenium.

Usage: test_login_flow.py [--out DIR] [--docs DIR] [--keep-user]
  --out DIR   screenshots (and failure captures) go here
              (default: $AUTHGATE_BROWSER_OUT or ./browser-screenshots)
  --docs DIR  after a successful run, also copy the two screenshots here
              (how docs/screenshots/ is refreshed)

Exit status 0 when every step passed, 1 on a failure, 2 on a usage or
environment problem. The last line of output says which.
"""

import argparse
import importlib.util
import os
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from urllib.parse import parse_qs, urlsplit

NAME = "browser.login_flow"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PSQL = shutil.which("psql") or "/usr/bin/psql"

# The protected page: the demo app's index page greets the user by name.
# The query holds a percent-encoded character so that the round trip
# through `next` (encoded once more) is really checked.
PROTECTED = "/?x=1&y=two%20words"

WAIT = 15           # seconds for any single condition
PAGE_LOAD = 20      # seconds for a navigation
DESKTOP = (1280, 800)
PHONE = (390, 844)
REMEMBER_MIN_SECONDS = 24 * 3600   # "remember me" must outlive a day
DEADLINE = 90       # seconds for the whole flow (ctest's TIMEOUT is 120)


class Failure(Exception):
    pass


def say(msg):
    print(msg, flush=True)


def finish(status, msg):
    say(f"{NAME}: {msg}")
    sys.exit(status)


# ----------------------------------------------------------------- database

def psql(db, script, **variables):
    """Runs SQL (with :'name' psql variables) against the test database;
    returns the unaligned output."""
    cmd = [PSQL, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db, "-f", "-"]
    for name, value in variables.items():
        cmd[1:1] = ["-v", f"{name}={value}"]
    r = subprocess.run(cmd, input=script, capture_output=True, text=True,
                       timeout=30)
    if r.returncode != 0:
        raise Failure(f"psql failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout.strip()


def create_user(db, username, password):
    psql(db, "SELECT authgate.create_user(:'u', :'p', :'e');",
         u=username, p=password, e=f"{username}@example.com")


def remove_user(db, username):
    """Deletes the test user and takes back the one failure this run added
    to its client address's counter (repeated runs against one stack would
    otherwise lock 127.0.0.1 out after 20 of them)."""
    psql(db, """
        UPDATE authgate.login_failures AS f SET failures = f.failures - n.count
          FROM (SELECT host(client_addr) AS key, count(*) AS count
                  FROM authgate.events
                 WHERE event = 'login_failed' AND lower(username) = lower(:'u')
                   AND client_addr IS NOT NULL
                 GROUP BY 1) AS n
         WHERE f.scope = 'addr' AND f.key = n.key;
        DELETE FROM authgate.login_failures WHERE scope = 'addr' AND failures <= 0;
        DELETE FROM authgate.login_failures WHERE scope = 'user' AND key = lower(:'u');
        SELECT authgate.delete_user(:'u')
         WHERE EXISTS (SELECT 1 FROM authgate.users WHERE lower(username) = lower(:'u'));
        """, u=username)


# ------------------------------------------------------------------ browser

def start_browser(profile_dir):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions",
                "--password-store=basic", "--lang=en-US",
                f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
                f"--user-data-dir={profile_dir}"):
        options.add_argument(arg)
    # No password manager bubbles or leak checks (those would call out).
    options.add_experimental_option("prefs", {
        "credentials_enable_service": False,
        "profile.password_manager_enabled": False,
        "profile.password_manager_leak_detection": False,
    })
    # The network log gives the HTTP statuses and the request headers the
    # browser really sent.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER),
                              options=options)
    driver.set_page_load_timeout(PAGE_LOAD)
    return driver


class NetLog:
    """Top-level document requests to the site, from the browser's
    performance log: method, url, status (of each hop of a redirect chain)
    and the request headers sent. The browser's own pages (its new-tab
    page loads at start) are left out. Headers known only from
    requestWillBeSentExtraInfo (Sec-Fetch-*) are reliable for requests that
    are not redirected: that event may arrive after the next hop's."""

    def __init__(self, driver, origin):
        self.driver = driver
        self.origin = origin
        self.entries = []
        self._pending = {}

    def drain(self):
        import json
        for raw in self.driver.get_log("performance"):
            msg = json.loads(raw["message"])["message"]
            method, p = msg.get("method"), msg.get("params", {})
            if method == "Network.requestWillBeSent" and p.get("type") == "Document":
                rid = p["requestId"]
                redirect = p.get("redirectResponse")
                if redirect is not None and rid in self._pending:
                    # the same request id continues after a redirect
                    self._pending[rid]["status"] = redirect["status"]
                    self.entries.append(self._pending.pop(rid))
                self._pending[rid] = {
                    "method": p["request"]["method"], "url": p["request"]["url"],
                    "status": None, "headers": dict(p["request"].get("headers", {})),
                }
            elif method == "Network.requestWillBeSentExtraInfo":
                rid = p["requestId"]
                if rid in self._pending:
                    # the headers as sent on the wire (Sec-Fetch-*, Cookie)
                    self._pending[rid]["headers"].update(p.get("headers", {}))
            elif method == "Network.responseReceived" and p.get("type") == "Document":
                rid = p["requestId"]
                if rid in self._pending:
                    self._pending[rid]["status"] = p["response"]["status"]
                    self.entries.append(self._pending.pop(rid))
        return self.entries

    def mark(self):
        self.drain()
        return len(self.entries)

    def since(self, mark):
        return [e for e in self.drain()[mark:]
                if e["url"] == self.origin or e["url"].startswith(self.origin + "/")]


def header(entry, name):
    for key, value in entry["headers"].items():
        if key.lower() == name.lower():
            return value
    return None


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise Failure(f"{path} is not a PNG")
    return struct.unpack(">II", head[16:24])


# -------------------------------------------------------------------- steps

class Flow:
    def __init__(self, base, db, out, profile):
        self.base = base.rstrip("/")
        self.db = db
        self.out = out
        self.profile = profile
        self.driver = None
        self.net = None
        self.step_name = "setup"
        self.steps = 0
        self.step_started = time.monotonic()
        self.username = f"u_br_{secrets.token_hex(5)}"
        self.password = f"pw-{secrets.token_urlsafe(12)}"

    # -- helpers

    def step(self, name):
        self.step_name = name
        self.steps += 1
        self.step_started = time.monotonic()

    def ok(self, msg):
        took = time.monotonic() - self.step_started
        say(f"  ok {self.steps:2d} {self.step_name} ({took:.1f} s): {msg}")

    def check(self, cond, msg):
        if not cond:
            raise Failure(msg)

    def wait(self, condition, what):
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait
        try:
            return WebDriverWait(self.driver, WAIT, poll_frequency=0.05).until(condition)
        except TimeoutException:
            try:
                text = " ".join(self.body_text().split())[:300]
            except Exception:
                text = "?"
            raise Failure(f"timed out after {WAIT} s waiting for {what}; "
                          f"browser is on {self.driver.current_url!r}, "
                          f"page text: {text!r}") from None

    def path_query(self):
        u = urlsplit(self.driver.current_url)
        return u.path + (f"?{u.query}" if u.query else "")

    def on_path(self, path):
        return lambda d: urlsplit(d.current_url).path == path

    def body_text(self):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.TAG_NAME, "body").text

    def flash(self):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.CSS_SELECTOR, "p.flash").text.strip()

    def start(self):
        self.driver = start_browser(self.profile)
        self.net = NetLog(self.driver, self.base)

    def stop(self):
        if self.driver is not None:
            try:
                self.driver.quit()
            finally:
                self.driver = None

    def capture_failure(self):
        """Screenshot and HTML of where the browser was when a step failed."""
        if self.driver is None:
            return
        stem = os.path.join(self.out, "failure")
        try:
            self.driver.save_screenshot(stem + ".png")
            with open(stem + ".html", "w", encoding="utf-8") as f:
                f.write(self.driver.page_source)
            say(f"  failure capture: {stem}.png, {stem}.html "
                f"(browser on {self.driver.current_url})")
        except Exception as e:  # the browser may be gone
            say(f"  (no failure capture: {e})")

    def expect_login_page(self, what):
        """Waits for the login form reached by a refused protected page."""
        from selenium.webdriver.common.by import By
        self.wait(self.on_path("/auth/login"), f"the login page ({what})")
        self.wait(lambda d: d.find_elements(By.ID, "password"), "the login form")
        nxt = parse_qs(urlsplit(self.driver.current_url).query).get("next")
        self.check(nxt == [PROTECTED],
                   f"login URL {self.driver.current_url!r} has next={nxt!r}, "
                   f"expected {PROTECTED!r}")
        self.check(self.flash() == "Please log in first.",
                   f"flash message is {self.flash()!r}, expected 'Please log in first.'")
        hidden = self.driver.find_element(By.NAME, "next").get_attribute("value")
        self.check(hidden == PROTECTED,
                   f"hidden next field is {hidden!r}, expected {PROTECTED!r}")

    def submit_login(self, password, remember):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC
        d = self.driver
        user = d.find_element(By.ID, "username")
        user.clear()
        user.send_keys(self.username)
        pw = d.find_element(By.ID, "password")
        pw.clear()
        pw.send_keys(password)
        box = d.find_element(By.ID, "remember")
        if box.is_selected() != remember:
            # click the label, as a user would (it must toggle the box)
            d.find_element(By.CSS_SELECTOR, "label[for=remember]").click()
        self.check(box.is_selected() == remember,
                   f"'Remember me' is {'not ' if remember else ''}ticked after clicking its label")
        form = d.find_element(By.TAG_NAME, "form")
        mark = self.net.mark()
        d.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.wait(EC.staleness_of(form), "the login form to be submitted")
        return mark

    def login_post(self, mark):
        """The POST /auth/login document request since `mark`."""
        posts = [e for e in self.net.since(mark)
                 if e["method"] == "POST" and urlsplit(e["url"]).path == "/auth/login"]
        self.check(len(posts) == 1, f"expected one POST /auth/login, saw {posts!r}")
        return posts[0]

    def screenshot(self, name, size, mobile):
        d = self.driver
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": size[0], "height": size[1], "deviceScaleFactor": 1,
            "mobile": mobile})
        try:
            self.wait(lambda d: d.execute_script("return window.innerWidth") == size[0],
                      f"the viewport to be {size[0]} px wide")
            overflow = d.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth")
            self.check(overflow <= 0,
                       f"at {size[0]}x{size[1]} the page scrolls sideways by {overflow} px")
            button = d.execute_script(
                "const r = document.querySelector('button[type=submit]')"
                ".getBoundingClientRect();"
                "return [r.left, r.top, r.right, r.bottom];")
            self.check(button[0] >= 0 and button[1] >= 0 and button[2] <= size[0]
                       and button[3] <= size[1],
                       f"at {size[0]}x{size[1]} the Sign in button {button} "
                       f"is not visible without scrolling")
            path = os.path.join(self.out, name)
            self.check(d.save_screenshot(path), f"could not save {path}")
            got = png_size(path)
            self.check(got == size, f"{path} is {got[0]}x{got[1]}, expected {size[0]}x{size[1]}")
            return path
        finally:
            d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    # -- the flow

    def run(self):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC
        base, d = self.base, None
        protected_url = base + PROTECTED

        self.step("test user")
        create_user(self.db, self.username, self.password)
        self.ok(f"created {self.username}")

        self.step("browser")
        t = time.monotonic()
        self.start()
        d = self.driver
        self.ok(f"{d.capabilities.get('browserName')} "
                f"{d.capabilities.get('browserVersion')} started in "
                f"{time.monotonic() - t:.1f} s")

        self.step("protected page redirects to the login page")
        mark = self.net.mark()
        d.get(protected_url)
        self.expect_login_page("first visit")
        hops = self.net.since(mark)
        self.check(hops and hops[0]["status"] == 302,
                   f"the protected page answered {hops[0]['status'] if hops else None}, expected 302")
        self.ok(f"{PROTECTED} -> 302 -> {self.path_query()}, 'Please log in first.'")

        self.step("screenshots")
        shots = [self.screenshot("login-desktop.png", DESKTOP, False),
                 self.screenshot("login-phone.png", PHONE, True)]
        self.ok(", ".join(shots))

        self.step("wrong password is refused")
        mark = self.submit_login(self.password + "-wrong", remember=False)
        self.wait(self.on_path("/auth/login"), "the login page after a wrong password")
        self.wait(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "p.flash"),
                                                   "Invalid username or password."),
                  "the message 'Invalid username or password.'")
        post = self.login_post(mark)
        self.check(post["status"] == 401, f"wrong password answered {post['status']}, expected 401")
        origin = header(post, "Origin")
        self.check(origin == base, f"the browser sent Origin {origin!r}, expected {base!r}")
        self.check(d.get_cookie("authgate") is None, "a session cookie was set after a wrong password")
        hidden = d.find_element(By.NAME, "next").get_attribute("value")
        self.check(hidden == PROTECTED, f"after the failure the form's next is {hidden!r}")
        self.ok(f"401, 'Invalid username or password.', no cookie "
                f"(browser sent Origin: {origin}, Sec-Fetch-Site: {header(post, 'Sec-Fetch-Site')})")

        self.step("right password with 'Remember me'")
        mark = self.submit_login(self.password, remember=True)
        self.wait(lambda d: self.path_query() == PROTECTED, f"the browser back on {PROTECTED}")
        self.wait(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), f"Hello, {self.username}"),
                  f"the page to greet {self.username}")
        post = self.login_post(mark)
        self.check(post["status"] == 303, f"the login answered {post['status']}, expected 303")
        self.ok(f"303 -> {self.path_query()}, page says 'Hello, {self.username}'")

        self.step("session cookie")
        c = d.get_cookie("authgate")
        self.check(c is not None, f"no 'authgate' cookie; cookies: {[x['name'] for x in d.get_cookies()]}")
        self.check(c.get("httpOnly") is True, f"the session cookie is not HttpOnly: {c}")
        self.check(c.get("sameSite") == "Lax", f"the session cookie is not SameSite=Lax: {c}")
        self.check(c.get("path") == "/", f"the session cookie's path is {c.get('path')!r}")
        expiry = c.get("expiry")
        self.check(expiry is not None, f"'Remember me' gave a cookie without expiry: {c}")
        left = expiry - time.time()
        self.check(left > REMEMBER_MIN_SECONDS,
                   f"the remembered cookie expires in {left:.0f} s only")
        script_sees = [x.split("=", 1)[0] for x in
                       d.execute_script("return document.cookie").split("; ")]
        self.check("authgate" not in script_sees, "page script can read the session cookie")
        self.ok(f"HttpOnly, SameSite=Lax, expires in {left / 86400:.1f} days, hidden from scripts")

        self.step("identity reaches the app")
        d.get(base + "/headers?x=1")
        self.wait(EC.text_to_be_present_in_element((By.TAG_NAME, "body"),
                                                   f"X-Auth-User: {self.username}"),
                  "/headers to show X-Auth-User")
        self.ok(f"/headers shows X-Auth-User: {self.username}")

        self.step("remembered across a browser restart")
        self.stop()
        self.start()
        d = self.driver
        d.get(protected_url)
        self.wait(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), f"Hello, {self.username}"),
                  f"the restarted browser to be still signed in as {self.username}")
        self.check(self.path_query() == PROTECTED, f"restarted browser is on {self.path_query()}")
        self.ok("a new browser process with the same profile is still signed in")

        self.step("logout")
        d.get(base + "/auth/logout")
        button = self.wait(EC.element_to_be_clickable(
            (By.XPATH, "//button[normalize-space()='Sign out']")), "the 'Sign out' button")
        self.check(self.username in self.body_text(),
                   f"the logout page does not name the user: {self.body_text()!r}")
        mark = self.net.mark()
        button.click()
        self.wait(self.on_path("/auth/login"), "the login page after signing out")
        self.wait(lambda d: d.find_elements(By.ID, "password"), "the login form after signing out")
        posts = [e for e in self.net.since(mark)
                 if e["method"] == "POST" and urlsplit(e["url"]).path == "/auth/logout"]
        self.check(len(posts) == 1 and posts[0]["status"] == 303,
                   f"the logout post answered {[p['status'] for p in posts]}, expected [303]")
        self.check(d.get_cookie("authgate") is None, "the session cookie is still there after sign out")
        self.check("You have been logged out." in self.body_text(),
                   f"no logged-out message after sign out: {self.body_text()!r}")
        self.ok("'Sign out' -> 303 -> /auth/login, 'You have been logged out.', cookie gone")

        self.step("protected page refused after logout")
        d.get(protected_url)
        self.expect_login_page("after logout")
        self.check(f"Hello, {self.username}" not in self.body_text(),
                   "the protected page was shown after logout")
        self.ok(f"{PROTECTED} -> {self.path_query()}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.environ.get("AUTHGATE_BROWSER_OUT", "browser-screenshots"))
    ap.add_argument("--docs", help="also copy the screenshots here after a successful run")
    args = ap.parse_args()

    base = os.environ.get("AUTHGATE_TEST_URL", "")
    db = os.environ.get("AUTHGATE_TEST_DB", "")
    if not base or not db:
        finish(2, "FAILED: AUTHGATE_TEST_URL and AUTHGATE_TEST_DB are not set: run it through "
                  "`scripts/dev test`, or `scripts/dev stack start DIR && source DIR/env`")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            finish(2, f"FAILED: {path} not found: install chromium and chromium-driver "
                      "(scripts/dev deps)")
    if importlib.util.find_spec("selenium") is None:
        finish(2, f"FAILED: {sys.executable} cannot import selenium: install python3-selenium "
                  "(scripts/dev deps) and run this with /usr/bin/python3")

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    for stale in ("login-desktop.png", "login-phone.png", "failure.png", "failure.html"):
        if os.path.exists(os.path.join(out, stale)):
            os.remove(os.path.join(out, stale))
    say(f"{NAME}: site {base}, output in {out}")

    def out_of_time(signum, frame):
        raise Failure(f"the flow took longer than {DEADLINE} s")
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(DEADLINE)

    started = time.monotonic()
    profile = tempfile.mkdtemp(prefix="authgate-chromium-")
    flow = Flow(base, db, out, profile)
    failure = None
    try:
        flow.run()
    except Failure as e:
        failure = str(e)
    except Exception as e:  # selenium or the browser itself went wrong
        failure = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
    signal.alarm(0)
    if failure is not None:
        say(f"  FAIL {flow.steps:2d} {flow.step_name}: {failure}")
        flow.capture_failure()
    try:
        flow.stop()
    except Exception as e:
        say(f"  (closing the browser: {e})")
    shutil.rmtree(profile, ignore_errors=True)
    try:
        remove_user(db, flow.username)
    except Exception as e:
        say(f"  (removing the test user {flow.username}: {e})")

    elapsed = time.monotonic() - started
    if failure is not None:
        finish(1, f"FAILED at step {flow.steps} ({flow.step_name}) after {elapsed:.1f} s")
    if args.docs:
        os.makedirs(args.docs, exist_ok=True)
        for name in ("login-desktop.png", "login-phone.png"):
            shutil.copyfile(os.path.join(out, name), os.path.join(args.docs, name))
        say(f"  copied the screenshots to {os.path.abspath(args.docs)}")
    finish(0, f"PASSED, {flow.steps} steps in {elapsed:.1f} s; screenshots: "
              f"{os.path.join(out, 'login-desktop.png')}, {os.path.join(out, 'login-phone.png')}")


if __name__ == "__main__":
    main()
