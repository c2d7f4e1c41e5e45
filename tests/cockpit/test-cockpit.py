#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Cockpit page (issue 12): Debian's cockpit-ws with a login-free local session, its
bridge on the test's private system bus with the real microvmd in system mode, the page as
`meson install` puts it, driven in headless Chromium through Selenium. The page defines a
guest from a pasted file (the daemon's errors at their lines first), starts, pauses, resumes,
stops and kills a real TCG guest, saves a snapshot of it, starts it from that and removes it,
follows its serial log, and sees the table change.

Screenshots go to BUILD/tests/cockpit/artifacts/; the test says where."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration",
                                "daemon"))
from harness import BOOT_TIMEOUT, BUILD, NOBODY, SystemWorld, check, run, wait_for  # noqa: E402

COCKPIT_WS = "/usr/lib/cockpit/cockpit-ws"
COCKPIT_BRIDGE = "/usr/bin/cockpit-bridge"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = os.path.join(BUILD, "tests", "cockpit", "artifacts")
SNAPSHOT = "#snapshot-list tr[data-snapshot='default']"


def missing_tools():
    missing = [p for p in (COCKPIT_WS, COCKPIT_BRIDGE, CHROMIUM, CHROMEDRIVER)
               if not os.access(p, os.X_OK)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("python3-selenium")
    return missing


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cockpit:
    """cockpit-ws on a loopback port serving the page from a private install of it, its bridge
    on the world's system bus: root, like an administrator with administrative access, or a
    user (nobody) whom polkit decides for."""

    def __init__(self, world, as_nobody=False):
        self.world = world
        self.prefix = NOBODY if as_nobody else []
        self.root = os.path.join(world.dir, "install")
        self.ws = None

    def __enter__(self):
        # the page as users get it: meson's install of the 'cockpit' tag, nothing else
        r = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--quiet",
                            "--tags", "cockpit", "--destdir", self.root],
                           capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, f"meson install --tags cockpit: {r.stdout}{r.stderr}")
        pages = [d for d, _, files in os.walk(self.root) if "manifest.json" in files]
        check(len(pages) == 1 and pages[0].endswith("/cockpit/microvmd"),
              f"meson installed no page at DATADIR/cockpit/microvmd: {pages}")
        share = os.path.dirname(os.path.dirname(pages[0]))
        env = self.world.env()
        env["XDG_DATA_DIRS"] = share + ":/usr/share"
        # the page follows the log with microvmctl, which then reads the world's log folder
        env["PATH"] = os.path.join(BUILD, "client") + ":" + env.get("PATH", "/usr/bin:/bin")
        self.port = free_port()
        self.log = open(os.path.join(self.world.dir, "cockpit-ws.log"), "w")
        # the world's environment carries its tag: its teardown ends the bridge's children too
        argv = [COCKPIT_WS, "--address", "127.0.0.1", "--port", str(self.port),
                "--local-session=" + COCKPIT_BRIDGE]
        self.ws = subprocess.Popen(self.prefix + argv, env=env, stdout=self.log,
                                   stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        try:
            wait_for("cockpit-ws serving the page", self._serves_page, timeout=30)
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def _serves_page(self):
        check(self.ws.poll() is None, f"cockpit-ws exited: {self.read_log()}")
        try:
            with urllib.request.urlopen(self.url + "/cockpit/@localhost/microvmd/index.html",
                                        timeout=5) as f:
                return f.status == 200 and b"microvmd.js" in f.read()
        except OSError:
            return False

    def read_log(self):
        with open(os.path.join(self.world.dir, "cockpit-ws.log"), errors="replace") as f:
            return f.read()

    def __exit__(self, *exc):
        if exc and exc[0] is not None:
            sys.stderr.write("--- cockpit-ws ---\n" + self.read_log() + "\n")
        if self.ws and self.ws.poll() is None:
            self.ws.terminate()
            try:
                self.ws.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.ws.kill()
                self.ws.wait()
        self.log.close()
        return False


class Browser:
    """Headless Chromium on the page inside Cockpit's shell, as a user sees it."""

    def __init__(self, world, cockpit):
        self.world = world
        self.cockpit = cockpit
        self.driver = None
        self.shots = []

    def __enter__(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # shown on failure
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--window-size=1400,1150", "--user-data-dir=" + os.path.join(self.world.dir,
                                                                                 "chromium")):
            options.add_argument(arg)
        # chromedriver and Chromium carry the world's tag: its teardown ends them, pass or fail
        service = Service(CHROMEDRIVER, env=self.world.env(),
                          log_path=os.path.join(self.world.dir, "chromedriver.log"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(60)
        return self

    def __exit__(self, *exc):
        if exc[0] is not None and self.driver:
            try:
                self.shoot("failure")
                console = "\n".join(e["message"] for e in self.driver.get_log("browser"))
                sys.stderr.write("--- page text ---\n" + self.js("return document.body.innerText")
                                 + "\n--- browser console ---\n" + console + "\n")
            except Exception as e:  # the browser itself may be what failed
                sys.stderr.write(f"no failure screenshot: {e}\n")
        if self.driver:
            self.driver.quit()
        if self.shots:
            print(f"# screenshots in {ARTIFACTS}: "
                  + ", ".join(os.path.basename(s) for s in self.shots), flush=True)
        return False

    def open(self):
        """Logs in through the local session and enters the page's frame in the shell."""
        from selenium.webdriver.common.by import By

        self.driver.get(self.cockpit.url + "/microvmd")
        frame = wait_for("the page's frame in the shell",
                         lambda: self.driver.find_elements(
                             By.CSS_SELECTOR, "iframe[name='cockpit1:localhost/microvmd']"),
                         timeout=60)
        self.driver.switch_to.frame(frame[0])
        wait_for("the page's script", lambda: self.js("return typeof cockpit") == "object", 30)

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def find(self, css):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def text(self, css):
        return self.js("const e = document.querySelector(arguments[0]);"
                       "return e ? e.textContent : null", css)

    def cell(self, guest, label):
        return self.text(f"tr[data-guest='{guest}'] td[data-label='{label}']")

    def row_state(self, guest):
        return self.js("const r = document.querySelector(`tr[data-guest='${arguments[0]}']`);"
                       "return r ? r.dataset.state : null", guest)

    def wait_row_state(self, guest, state, timeout=BOOT_TIMEOUT):
        wait_for(f"the table showing {guest} {state}", lambda: self.row_state(guest) == state,
                 timeout)

    def click(self, guest, action):
        button = self.find(f"tr[data-guest='{guest}'] button[data-action='{action}']")
        check(button.is_enabled(), f"{action} is disabled for {guest} "
                                   f"({self.row_state(guest)})")
        button.click()

    def paste(self, text):
        """Types a guest file into the editor, as a paste would leave it."""
        editor = self.find("#define-text")
        editor.clear()
        editor.send_keys(text)

    def shoot(self, name, show=".pf-c-page__main-section"):
        """The whole window, shell included, into the artifacts folder, with SHOW in view."""
        self.js("document.querySelector(arguments[0]).scrollIntoView()", show)
        os.makedirs(ARTIFACTS, exist_ok=True)
        path = os.path.join(ARTIFACTS, name + ".png")
        self.driver.save_screenshot(path)
        self.shots.append(path)
        return path


def guest_file_errors(b):
    return b.js("return Array.from(document.querySelectorAll('#define-errors li'),"
                " li => li.textContent)")


def test_page_drives_a_guest():
    with SystemWorld() as w, Cockpit(w) as c, Browser(w, c) as b:
        b.open()
        wait_for("the daemon's version on the page",
                 lambda: "accelerator tcg" in (b.text("#daemon") or ""), timeout=30)
        check(b.js("return !document.getElementById('no-guests').hidden"),
              "no 'No guests' with no guests defined")

        # A mistake: the daemon's error at its line, as the user types (PreviewCommandLine).
        b.paste("[Guest]\nName=web\nMemory=12\n")
        errors = wait_for("the daemon's error at line 3",
                          lambda: [e for e in guest_file_errors(b) if e.startswith("Line 3: ")])
        check("[Guest] Memory: '12' is out of range" in errors[0], f"not the daemon's: {errors}")
        check(b.text("#define-gutter .mvd-bad-line") == "3", "line 3 is not marked in the gutter")
        b.shoot("01-define-error", "#define")
        b.find("#define-button").click()
        wait_for("Define refused", lambda: b.text("#define-result") == "Not defined.", 30)
        check(not os.path.exists(w.guest_file("web")), "a refused file was stored")

        # Fixed: the command line it would run, then defined and in the table.
        b.paste("[Guest]\nName=web\nMemory=128M\n")
        wait_for("the QEMU command line", lambda: b.js(
            "return !document.getElementById('define-preview').hidden") and guest_file_errors(b)
            == [] and "\n    -M microvm," in b.text("#define-argv"), timeout=30)
        b.find("#define-button").click()
        wait_for("Define done", lambda: b.text("#define-result") == "Defined web.", 30)
        check(os.path.exists(w.guest_file("web")), "the daemon did not store web.guest")
        b.wait_row_state("web", "stopped", timeout=30)
        check((b.cell("web", "Memory"), b.cell("web", "CPUs"), b.cell("web", "Ready"))
              == ("128 MiB", "1", "no"), "the row does not show web's definition")

        # A guest defined behind the page's back appears (and goes when undefined, below).
        w.as_root("define", w.write_guest("other.guest", "[Guest]\nMemory=64M\nCPUs=2\n"))
        b.wait_row_state("other", "stopped", timeout=30)
        check((b.cell("other", "CPUs"), b.cell("other", "Memory")) == ("2", "64 MiB"),
              "other's row does not show its definition")

        # Autostart is a property the page writes.
        b.find("tr[data-guest='web'] td[data-label='Autostart'] .pf-c-switch__toggle").click()
        wait_for("Autostart=yes in the daemon", lambda: w.prop("web", "Autostart") is True, 30)

        # Start: the row follows PropertiesChanged to running and ready, with a boot time.
        b.click("web", "Start")
        b.wait_row_state("web", "running")
        check(w.state("web") == "running", f"the daemon says {w.state('web')}")
        wait_for("Ready on the page", lambda: b.cell("web", "Ready") == "yes", BOOT_TIMEOUT)
        check(b.cell("web", "Boot time").endswith(" s"), f"boot time {b.cell('web', 'Boot time')}")
        check(w.prop("web", "Ready") is True, "the daemon does not say ready")
        first = b.cell("web", "Uptime")
        wait_for("the uptime to move", lambda: b.cell("web", "Uptime") not in ("", first), 10)

        # The serial log follows the guest (microvmctl log -f behind the page).
        check(b.js("return document.getElementById('log-guest').value") == "web",
              "the log is not of web")
        wait_for("the guest's console in the log",
                 lambda: "userspace started" in (b.text("#log") or ""), timeout=30)
        # the page drops carriage returns and terminal escapes, and keeps the last 500 lines
        shown, kept = b.text("#log"), w.log("web").replace("\r", "")
        check(shown.strip() and shown in kept, f"the page's log is not the daemon's:\n{shown}")
        b.shoot("02-running")
        w.as_root("undefine", "other")
        wait_for("other's row gone", lambda: b.row_state("other") is None, timeout=30)

        b.click("web", "Pause")
        b.wait_row_state("web", "paused", timeout=30)
        check(w.state("web") == "paused", f"the daemon says {w.state('web')}")
        b.click("web", "Resume")
        b.wait_row_state("web", "running", timeout=30)

        # A snapshot saved from the page: it follows the save's Job and lists it.
        check(b.js("return document.getElementById('snapshot-guest').value") == "web",
              "the snapshot card is not of web")
        check(b.js("return !document.getElementById('no-snapshots').hidden"),
              "no 'No snapshots' before the first")
        wait_for("Save snapshot enabled", lambda: b.js(
            "return !document.getElementById('snapshot-save').disabled"), timeout=30)
        b.find("#snapshot-save").click()
        wait_for("the save done", lambda: b.text("#snapshot-result") == "Saved default.", 120)
        wait_for("the snapshot listed", lambda: b.text(
            f"{SNAPSHOT} td[data-label='Name']") == "default", timeout=30)
        check(b.text(f"{SNAPSHOT} td[data-label='Size']").endswith("MiB"),
              f"size {b.text(f'{SNAPSHOT} td[data-label=Size]')}")
        check(w.as_root("snapshot", "list", "web").stdout.splitlines()[1].split()[0]
              == "default", "the daemon does not list the page's snapshot")
        check(not b.find(f"{SNAPSHOT} button[data-action='Start from']").is_enabled(),
              "Start from is enabled while the guest runs")

        # Stop: the power button; the guest's init powers off, and the log shows it.
        b.click("web", "Stop")
        b.wait_row_state("web", "stopped")
        check(w.state("web") == "stopped" and w.qemu_pids() == [],
              f"the daemon says {w.state('web')}, QEMU {w.qemu_pids()}")
        check((b.cell("web", "Ready"), b.cell("web", "Uptime"), b.cell("web", "Boot time"))
              == ("no", "", ""), "a stopped guest still shows ready, an uptime or a boot time")
        wait_for("the power button in the log",
                 lambda: "power button pressed" in (b.text("#log") or ""), timeout=30)
        b.shoot("03-stopped")

        # Started from the snapshot: ready at once, and the daemon says from which
        b.find(f"{SNAPSHOT} button[data-action='Start from']").click()
        b.wait_row_state("web", "running")
        wait_for("Ready on the page", lambda: b.cell("web", "Ready") == "yes", 60)
        check("from snapshot default" in w.prop("web", "StateMessage"),
              f"not restored: {w.prop('web', 'StateMessage')}")
        b.shoot("05-snapshots", "#snapshots")

        # Kill, of a running guest
        b.click("web", "Kill")
        b.wait_row_state("web", "stopped", timeout=60)
        check(w.prop("web", "StateReason") == "killed",
              f"reason {w.prop('web', 'StateReason')}")
        check(w.qemu_pids() == [], "QEMU still runs after Kill")

        # Removed from the page, it goes from the list and from the daemon
        b.find(f"{SNAPSHOT} button[data-action='Remove']").click()
        wait_for("the empty snapshot list", lambda: b.js(
            "return !document.getElementById('no-snapshots').hidden"), timeout=30)
        check(len(w.as_root("snapshot", "list", "web").stdout.splitlines()) <= 1,
              "the daemon still lists the removed snapshot")


def polkit_flags(w):
    """The flags of each CheckAuthorization the mock got since the last ClearCalls: 1 lets
    polkit ask the user (test-polkit.py reads them the same way)."""
    r = w.polkit("GetCalls")
    check(r.returncode == 0, f"GetCalls: {r.stderr}")
    return [int(f) for f in re.findall(r"'CheckAuthorization', \[.*?<uint32 (\d+)>", r.stdout)]


def test_polkit_decides_for_a_user():
    """A Cockpit user without administrative access: the page's calls reach the daemon as that
    user, polkit decides, and a refusal is shown, not swallowed."""
    with SystemWorld() as w, Cockpit(w, as_nobody=True) as c, Browser(w, c) as b:
        w.start_polkit()
        w.as_root("define", w.write_guest("web.guest", "[Guest]\nMemory=128M\n"))
        b.open()
        b.wait_row_state("web", "stopped", timeout=30)

        # refused: the check while typing and a start each say what was refused; only what the
        # user asked for may make polkit ask for a password
        errors = wait_for("the refused check of the editor's sample", lambda: guest_file_errors(b),
                          timeout=30)
        check("org.microvmd1.manage" in errors[0], f"the refusal does not name the action: "
                                                   f"{errors}")
        w.polkit("ClearCalls")
        b.paste("[Guest]\nName=mine\nMemory=128M\n")
        flags = wait_for("the check of the pasted file", lambda: polkit_flags(w), timeout=30)
        check(set(flags) == {0}, f"the check may ask for a password: {flags}")
        w.polkit("ClearCalls")
        b.click("web", "Start")
        wait_for("the refused start", lambda: b.js(
            "return !document.getElementById('alert').hidden"), timeout=30)
        check("org.microvmd1.manage" in b.text("#alert-text"), b.text("#alert-text"))
        check(w.state("web") == "stopped", f"a refused start started: {w.state('web')}")
        check(polkit_flags(w) == [1], f"Start may not ask for a password: {polkit_flags(w)}")
        b.shoot("04-refused")

        # allowed by polkit: defined and started as that user
        w.allow("org.microvmd1.manage")
        b.find("#alert-close").click()
        b.find("#define-button").click()
        wait_for("Define done", lambda: b.text("#define-result") == "Defined mine.", 30)
        b.click("mine", "Start")
        b.wait_row_state("mine", "running")
        check(b.js("return document.getElementById('alert').hidden"),
              f"an allowed start alerted: {b.text('#alert-text')}")
        b.click("mine", "Kill")
        b.wait_row_state("mine", "stopped", timeout=60)


if __name__ == "__main__":
    missing = missing_tools()
    if missing:
        print(f"1..0 # SKIP missing {', '.join(missing)} (scripts/install-deps.sh installs them)")
        sys.exit(0)
    started = time.monotonic()
    status = run({name: fn for name, fn in globals().items() if name.startswith("test_")})
    print(f"# test-cockpit took {time.monotonic() - started:.1f} s", flush=True)
    sys.exit(status)
