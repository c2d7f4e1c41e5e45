// SPDX-License-Identifier: LGPL-2.1-or-later
// The Micro VMs page: microvmd's guests over cockpit.dbus, kept current by the
// PropertiesChanged signals the bridge turns into proxy "changed" events.
"use strict";

const MANAGER = "org.microvmd1.Manager";
const GUEST = "org.microvmd1.Guest";
const JOB = "org.microvmd1.Job";
// What the user asked for may make polkit ask who they are (Cockpit's bridge answers with the
// login password), as microvmctl lets it; the checks made while typing may not. The bridge's
// default, without "flags", is interactive.
const INTERACTIVE = "i";
const QUIET = "";
const GUESTS_PATH = "/org/microvmd1/guest";
const LOG_KEEP_CHARS = 256 * 1024;

// "try": as root when the user has administrative access, else as the user, and polkit decides.
const client = cockpit.dbus("org.microvmd1", { bus: "system", superuser: "try" });
const manager = client.proxy(MANAGER, "/org/microvmd1");
const guests = client.proxies(GUEST, GUESTS_PATH);

const $ = id => document.getElementById(id);

// ---- formatting ---------------------------------------------------------------------------

function formatBytes(bytes) {
    if (typeof bytes !== "number")
        return "";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (bytes >= 1024 && i < units.length - 1) {
        bytes /= 1024;
        i++;
    }
    return (Number.isInteger(bytes) ? bytes : bytes.toFixed(1)) + " " + units[i];
}

function formatDuration(seconds) {
    if (seconds < 60)
        return seconds.toFixed(seconds < 10 ? 1 : 0) + " s";
    const parts = [[86400, "d"], [3600, "h"], [60, "min"], [1, "s"]];
    for (let i = 0; i < parts.length - 1; i++) {
        if (seconds >= parts[i][0]) {
            const major = Math.floor(seconds / parts[i][0]);
            const minor = Math.floor((seconds % parts[i][0]) / parts[i + 1][0]);
            return major + " " + parts[i][1] + " " + minor + " " + parts[i + 1][1];
        }
    }
}

// The host's clock minus the browser's, in ms: StartTimestamp is the host's.
let clockOffset = 0;
cockpit.spawn(["date", "+%s%3N"])
        .then(out => { clockOffset = Number(out.trim()) - Date.now() })
        .catch(() => {});

function uptime(proxy) {
    if (!proxy.StartTimestamp)
        return "";
    const hostNow = Date.now() + clockOffset;
    return formatDuration(Math.max(0, (hostNow - proxy.StartTimestamp / 1000) / 1000));
}

// ---- errors -------------------------------------------------------------------------------

function showError(message) {
    $("alert-text").textContent = message;
    $("alert").hidden = false;
}

$("alert-close").addEventListener("click", () => { $("alert").hidden = true });

// ---- the guest table ----------------------------------------------------------------------

const STATE_COLOURS = {
    running: "pf-m-green",
    paused: "pf-m-orange",
    crashed: "pf-m-red",
    starting: "pf-m-blue",
    stopping: "pf-m-blue",
};

// What each button calls, and in which states it may.
const ACTIONS = [
    { label: "Start", method: "Start", states: ["stopped", "crashed"] },
    { label: "Stop", method: "Shutdown", type: "u", args: [0], states: ["running", "paused"] },
    { label: "Pause", method: "Pause", states: ["running"] },
    { label: "Resume", method: "Resume", states: ["paused"] },
    { label: "Kill", method: "Kill", states: ["starting", "running", "paused", "stopping"],
      danger: true },
];

const rows = new Map(); // object path -> { tr, cells, autostart, buttons }

function cell(tr, label) {
    const td = document.createElement("td");
    td.dataset.label = label;
    tr.appendChild(td);
    return td;
}

function callGuest(proxy, action) {
    // Start and Stop answer when the guest got there, which under TCG takes a while.
    client.call(proxy.path, GUEST, action.method, action.args || [],
                { type: action.type || "", flags: INTERACTIVE, timeout: 600 * 1000 })
            .catch(ex => showError(`${action.label} ${proxy.Name}: ${ex.message}`));
}

function setAutostart(proxy, on) {
    client.call(proxy.path, "org.freedesktop.DBus.Properties", "Set",
                [GUEST, "Autostart", cockpit.variant("b", on)], { flags: INTERACTIVE })
            .catch(ex => {
                showError(`Autostart of ${proxy.Name}: ${ex.message}`);
                updateRow(proxy);
            });
}

function makeRow(proxy) {
    const tr = document.createElement("tr");
    const cells = {};
    for (const label of ["Name", "State", "Ready", "Boot time", "Memory", "CPUs", "Uptime"])
        cells[label] = cell(tr, label);

    const toggle = document.createElement("label");
    toggle.className = "pf-c-switch";
    const autostart = document.createElement("input");
    autostart.type = "checkbox";
    autostart.className = "pf-c-switch__input";
    autostart.setAttribute("aria-label", "Autostart");
    autostart.addEventListener("change", () => setAutostart(proxy, autostart.checked));
    const track = document.createElement("span");
    track.className = "pf-c-switch__toggle";
    toggle.append(autostart, track);
    cell(tr, "Autostart").appendChild(toggle);

    const actions = cell(tr, "Actions");
    actions.className = "mvd-actions";
    const buttons = ACTIONS.map(action => {
        const button = smallButton(action.label, action.danger ? "pf-m-danger" : "pf-m-secondary",
                                   () => callGuest(proxy, action));
        actions.appendChild(button);
        return button;
    });
    return { tr, cells, autostart, buttons };
}

// A proxy may be announced before all its properties are (the bridge fills them in as they
// come), so every one may still be undefined here.
function updateRow(proxy) {
    const row = rows.get(proxy.path);
    if (!row)
        return;
    const c = row.cells;
    const renamed = !row.tr.isConnected || row.tr.dataset.guest !== (proxy.Name || "");
    row.tr.dataset.guest = proxy.Name || "";
    row.tr.dataset.state = proxy.State || "";
    c.Name.textContent = proxy.Name || "";

    const label = document.createElement("span");
    label.className = "pf-c-label " + (STATE_COLOURS[proxy.State] || "");
    label.title = proxy.StateMessage || proxy.StateReason || "";
    const text = document.createElement("span");
    text.className = "pf-c-label__content";
    text.textContent = proxy.State || "";
    label.appendChild(text);
    c.State.replaceChildren(label);

    c.Ready.textContent = proxy.Ready ? "yes" : "no";
    // the daemon keeps the last boot's time after a stop; beside "stopped" it would mislead
    const up = !["stopped", "crashed"].includes(proxy.State);
    c["Boot time"].textContent = up && proxy.BootTimeUSec
        ? formatDuration(proxy.BootTimeUSec / 1e6)
        : "";
    c.Memory.textContent = formatBytes(proxy.Memory);
    c.CPUs.textContent = proxy.CPUs === undefined ? "" : String(proxy.CPUs);
    c.Uptime.textContent = uptime(proxy);
    row.autostart.checked = !!proxy.Autostart;
    ACTIONS.forEach((action, i) => {
        row.buttons[i].disabled = !action.states.includes(proxy.State);
    });
    if (renamed) {
        placeRow(proxy);
        updateGuestChoices();
    }
    if (proxy.Name === snapshotChoice.value)
        renderSnapshots();
}

function placeRow(proxy) {
    const tbody = document.querySelector("#guests tbody");
    const row = rows.get(proxy.path);
    const name = row.tr.dataset.guest;
    const next = Array.from(tbody.children).find(tr => tr !== row.tr && tr.dataset.guest > name);
    tbody.insertBefore(row.tr, next || null);
    $("no-guests").hidden = rows.size > 0;
}

guests.addEventListener("added", (event, proxy) => {
    rows.set(proxy.path, makeRow(proxy));
    updateRow(proxy);
});

guests.addEventListener("changed", (event, proxy) => updateRow(proxy));

guests.addEventListener("removed", (event, proxy) => {
    const row = rows.get(proxy.path);
    if (row)
        row.tr.remove();
    rows.delete(proxy.path);
    $("no-guests").hidden = rows.size > 0;
    updateGuestChoices();
});

window.setInterval(() => {
    for (const proxy of Object.values(guests))
        if (rows.has(proxy.path))
            rows.get(proxy.path).cells.Uptime.textContent = uptime(proxy);
}, 1000);

function showDaemon() {
    if (manager.valid)
        $("daemon").textContent = `microvmd ${manager.Version}, QEMU ${manager.QemuVersion}, ` +
            `accelerator ${manager.Accelerator}` +
            (manager.AcceleratorNote ? ` (${manager.AcceleratorNote})` : "");
    else
        $("daemon").textContent = "microvmd is not running, or this user may not reach it.";
}

// "changed" also when the daemon comes (back) on the bus after the page opened
manager.wait(showDaemon);
manager.addEventListener("changed", showDaemon);

client.addEventListener("close", (event, options) => {
    showError("The connection to microvmd closed: " + (options.message || options.problem || ""));
});

// ---- defining a guest -----------------------------------------------------------------------

const editor = $("define-text");
let checkTimer = 0;
let checkSerial = 0;

function defineOptions() {
    const name = $("define-file-name").value.trim();
    return name ? { "file-name": cockpit.variant("s", name) } : {};
}

// The daemon's messages start FILE:LINE: when they are about a line of the file.
function parseErrors(message) {
    return message.split("\n").filter(l => l).map(line => {
        const m = /^.*?:(\d+): (.*)$/.exec(line);
        return m ? { line: Number(m[1]), text: m[2] } : { line: 0, text: line };
    });
}

function renderGutter(badLines) {
    const n = editor.value.split("\n").length;
    const gutter = $("define-gutter");
    gutter.replaceChildren();
    for (let i = 1; i <= n; i++) {
        const div = document.createElement("div");
        div.textContent = String(i);
        if (badLines.includes(i))
            div.className = "mvd-bad-line";
        gutter.appendChild(div);
    }
    editor.rows = Math.max(n, 6);
}

function selectLine(line) {
    const lines = editor.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0);
    editor.focus();
    editor.setSelectionRange(start, start + (lines[line - 1] || "").length);
}

function showFileErrors(message) {
    const errors = message ? parseErrors(message) : [];
    const list = $("define-errors");
    list.replaceChildren();
    for (const error of errors) {
        const li = document.createElement("li");
        if (error.line) {
            const a = document.createElement("a");
            a.textContent = `Line ${error.line}`;
            a.dataset.line = String(error.line);
            a.addEventListener("click", () => selectLine(error.line));
            li.append(a, ": ");
        }
        li.append(error.text);
        list.appendChild(li);
    }
    renderGutter(errors.map(e => e.line));
}

// One option and its value a line, quoted as a shell would need: what microvmd --check prints,
// made readable.
function formatArgv(argv) {
    const quote = arg => /^[\w@%+=:,./-]+$/.test(arg)
        ? arg
        : "'" + arg.replace(/'/g, "'\\''") + "'";
    const lines = [];
    let awaitsValue = false;
    for (const arg of argv) {
        if (awaitsValue && !arg.startsWith("-")) {
            lines[lines.length - 1] += " " + quote(arg);
            awaitsValue = false;
        } else {
            lines.push(quote(arg));
            awaitsValue = arg.startsWith("-");
        }
    }
    return lines.join(" \\\n    ");
}

function check() {
    const serial = ++checkSerial;
    client.call("/org/microvmd1", MANAGER, "PreviewCommandLine", [editor.value, defineOptions()],
                { flags: QUIET })
            .then(([argv]) => {
                if (serial !== checkSerial)
                    return;
                showFileErrors("");
                $("define-argv").textContent = formatArgv(argv);
                $("define-preview").hidden = false;
            })
            .catch(ex => {
                if (serial !== checkSerial)
                    return;
                showFileErrors(ex.message);
                $("define-preview").hidden = true;
            });
}

function scheduleCheck() {
    $("define-result").textContent = "";
    renderGutter([]);
    window.clearTimeout(checkTimer);
    checkTimer = window.setTimeout(check, 400);
}

editor.addEventListener("input", scheduleCheck);
$("define-file-name").addEventListener("input", scheduleCheck);

$("define-button").addEventListener("click", () => {
    checkSerial++; // an answer to an earlier check must not paint over this one
    client.call("/org/microvmd1", MANAGER, "DefineGuest", [editor.value, defineOptions()],
                { flags: INTERACTIVE })
            .then(([path]) => {
                showFileErrors("");
                const proxy = guests[path];
                $("define-result").textContent = `Defined ${proxy ? proxy.Name : path}.`;
            })
            .catch(ex => {
                showFileErrors(ex.message);
                $("define-result").textContent = "Not defined.";
            });
});

manager.wait(() => { if (manager.valid) check() });

// ---- the serial log -------------------------------------------------------------------------

// The bus has no method that returns the log, and the log folder depends on how microvmd runs,
// so the page runs what a user would: microvmctl log --follow, which knows the folder, follows
// rotation and sends only what is new.
const logView = $("log");
const logChoice = $("log-guest");
let logProcess = null;

function appendLog(text) {
    // Colours and cursor movement mean nothing here; carriage returns end lines already ended.
    text = text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "").replace(/\r/g, "");
    const atEnd = logView.scrollTop + logView.clientHeight >= logView.scrollHeight - 4;
    let all = logView.textContent + text;
    if (all.length > LOG_KEEP_CHARS)
        all = all.slice(all.length - LOG_KEEP_CHARS);
    logView.textContent = all;
    if (atEnd)
        logView.scrollTop = logView.scrollHeight;
}

function followLog(name) {
    if (logProcess)
        logProcess.close("cancelled");
    logProcess = null;
    logView.textContent = "";
    if (!name)
        return;
    const process = cockpit.spawn(["microvmctl", "log", "--lines", "500", "--follow", name],
                                  { superuser: "try", err: "message" });
    logProcess = process;
    process.stream(data => { if (process === logProcess) appendLog(data) });
    process.catch(ex => {
        if (process === logProcess && ex.problem !== "cancelled")
            appendLog(`\n[microvmctl log: ${ex.message}]\n`);
    });
}

// Fills a guest chooser with the guests' names, keeping its choice while that guest is there;
// true when the choice changed.
function fillGuestChoice(select) {
    const names = Object.values(guests).map(p => p.Name).filter(n => n).sort();
    const chosen = select.value;
    select.replaceChildren(...names.map(name => new Option(name, name)));
    select.value = names.includes(chosen) ? chosen : (names[0] || "");
    return select.value !== chosen;
}

function updateLogChoices() {
    if (fillGuestChoice(logChoice))
        followLog(logChoice.value);
}

logChoice.addEventListener("change", () => followLog(logChoice.value));

// ---- snapshots ------------------------------------------------------------------------------

const snapshotChoice = $("snapshot-guest");

function updateGuestChoices() {
    updateLogChoices();
    fillGuestChoice(snapshotChoice);
    renderSnapshots();
}

function chosenGuest() {
    return Object.values(guests).find(p => p.Name === snapshotChoice.value);
}

function smallButton(label, kind, onClick) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "pf-c-button pf-m-small " + kind;
    button.textContent = label;
    button.dataset.action = label;
    button.addEventListener("click", onClick);
    return button;
}

// StartFromSnapshot answers once the guest runs; RemoveSnapshot at once. The list follows the
// Snapshots property either way.
function callSnapshot(proxy, method, name, what) {
    client.call(proxy.path, GUEST, method, [name], { flags: INTERACTIVE, timeout: 600 * 1000 })
            .catch(ex => showError(`${what} ${proxy.Name}: ${ex.message}`));
}

function renderSnapshots() {
    const proxy = chosenGuest();
    const list = (proxy && proxy.Snapshots) || [];
    const stopped = proxy && ["stopped", "crashed"].includes(proxy.State);
    const tbody = document.querySelector("#snapshot-list tbody");
    tbody.replaceChildren(...list.map(([name, created, bytes]) => {
        const tr = document.createElement("tr");
        tr.dataset.snapshot = name;
        cell(tr, "Name").textContent = name;
        cell(tr, "Saved").textContent = new Date(created / 1000).toLocaleString();
        cell(tr, "Size").textContent = formatBytes(bytes);
        const actions = cell(tr, "Actions");
        actions.className = "mvd-actions";
        const start = smallButton("Start from", "pf-m-secondary",
                                  () => callSnapshot(proxy, "StartFromSnapshot", name,
                                                     `Start from ${name}:`));
        start.disabled = !stopped;
        actions.append(start, smallButton("Remove", "pf-m-danger",
                                          () => callSnapshot(proxy, "RemoveSnapshot", name,
                                                             `Remove ${name} of`)));
        return tr;
    }));
    $("no-snapshots").hidden = list.length > 0;
    $("snapshot-save").disabled = !(proxy && proxy.State === "running" && proxy.Ready);
}

// A save is a Job: its bytes while QEMU writes the memory, then how it ended (it stays on the
// bus a minute after, so a job that ended before its proxy came still says how).
function followSave(path, name) {
    const job = client.proxy(JOB, path);
    const show = () => {
        if (!job.valid)
            return;
        let text;
        if (job.State === "running")
            text = `Saving ${name}: ${formatBytes(job.BytesDone)} written`;
        else if (job.State === "done")
            text = `Saved ${name}.`;
        else
            text = `Snapshot ${name} ${job.State}${job.Error ? ": " + job.Error : "."}`;
        $("snapshot-result").textContent = text;
        if (job.State !== "running")
            job.removeEventListener("changed", show);
    };
    job.addEventListener("changed", show);
    job.wait(show);
}

$("snapshot-save").addEventListener("click", () => {
    const proxy = chosenGuest();
    const name = $("snapshot-name").value.trim() || "default";
    if (!proxy)
        return;
    $("snapshot-result").textContent = `Saving ${name}…`;
    client.call(proxy.path, GUEST, "SaveSnapshot", [name], { flags: INTERACTIVE })
            .then(([path]) => followSave(path, name))
            .catch(ex => {
                $("snapshot-result").textContent = "Not saved.";
                showError(`Snapshot ${name} of ${proxy.Name}: ${ex.message}`);
            });
});

snapshotChoice.addEventListener("change", () => {
    $("snapshot-result").textContent = "";
    renderSnapshots();
});
