/*! Tutela cookie banner. No dependencies. Add to a page with:
 *  <script src="https://TUTELA_HOST/banner.js" defer></script>
 * Scripts written as <script type="text/plain" data-purpose="analytics"> run only
 * once the visitor consented to that purpose (or it is strictly necessary); those of a
 * purpose on legitimate interest run unless the visitor objected to it.
 * window.tutelaBanner.open() shows the choices again. */
(function () {
  "use strict";
  var W = window, D = document, N = navigator;
  var me = D.currentScript;
  if (!me || W.tutelaBanner) return;
  var base = new URL(me.src, location.href).origin;
  var cfg = null;
  var state = null; // {v: visitor id, p: policy version, c: {purpose: bool}, o: {purpose: bool}}
  var gpc = N.globalPrivacyControl === true;
  var box = null, before = null;
  var NAME = "tutela_consent";

  function has(list, name) {
    for (var i = 0; i < list.length; i++) if (list[i] === name) return true;
    return false;
  }
  function names(list) {
    var out = [];
    for (var i = 0; i < list.length; i++) out.push(list[i].purpose);
    return out;
  }
  function gpcOff(name) {
    return gpc && cfg.gpc.honoured && has(cfg.gpc.purposes, name);
  }
  function readState() {
    var parts = D.cookie ? D.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) !== NAME) continue;
      try {
        var s = JSON.parse(decodeURIComponent(parts[i].slice(eq + 1)));
        if (s && typeof s.v === "string" && s.c && typeof s.c === "object") return s;
      } catch (e) { /* an unreadable cookie is no choice */ }
    }
    return null;
  }
  function saveState() {
    var age = cfg.cookie.max_age;
    if (age === 0) return; // the policy promises no cookies: choices last for this page
    var c = NAME + "=" + encodeURIComponent(JSON.stringify(state)) +
      "; Path=/; SameSite=Lax";
    if (age !== null) c += "; Max-Age=" + age;
    if (location.protocol === "https:") c += "; Secure";
    D.cookie = c;
  }
  function objected(name) {
    return gpcOff(name) || !!(state && state.o && state.o[name] === true);
  }
  function allowed(name) {
    if (has(names(cfg.always_on), name)) return true;
    if (has(names(cfg.objectable), name)) return !objected(name);
    if (!has(names(cfg.categories), name) || gpcOff(name)) return false;
    return !!(state && state.c[name] === true);
  }
  function activate() {
    var tags = D.querySelectorAll('script[type="text/plain"][data-purpose]');
    for (var i = 0; i < tags.length; i++) {
      var old = tags[i];
      if (!allowed(old.getAttribute("data-purpose"))) continue;
      var s = D.createElement("script");
      for (var j = 0; j < old.attributes.length; j++) {
        var a = old.attributes[j];
        if (a.name !== "type" && a.name !== "data-purpose") s.setAttribute(a.name, a.value);
      }
      var kind = old.getAttribute("data-type");
      if (kind) s.type = kind;
      if (old.src) s.async = false;
      else s.text = old.text;
      s.setAttribute("data-tutela", old.getAttribute("data-purpose"));
      old.parentNode.replaceChild(s, old);
    }
  }
  function record(choices, objections, done) {
    var body = {choices: choices, objections: objections, policy_version: cfg.version};
    if (state && state.v) body.visitor_id = state.v;
    W.fetch(base + "/v1/banner/consents", {
      method: "POST", credentials: "omit", keepalive: true,
      headers: {"Content-Type": "text/plain"}, body: JSON.stringify(body)
    }).then(function (r) {
      if (!r.ok) throw new Error("status " + r.status);
      return r.json();
    }).then(function (saved) {
      var keep = state && !cfg.ask_again;
      var c = keep ? state.c : {}, o = keep && state.o ? state.o : {}, k;
      for (k in saved.choices) c[k] = saved.choices[k];
      for (k in saved.objections) o[k] = saved.objections[k];
      state = {v: saved.visitor_id, p: saved.policy_version || "", c: c, o: o};
      saveState();
      activate();
      if (done) done(true);
    }, function () {
      if (done) done(false); // nothing recorded: nothing new runs, ask again next time
    });
  }

  function el(tag, attrs, text) {
    var e = D.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text) e.textContent = text;
    return e;
  }
  var CSS = ".tutela-b{position:fixed;z-index:2147483000;left:1rem;right:1rem;bottom:1rem;" +
    "max-width:36rem;margin:auto;max-height:85vh;overflow:auto;background:#fff;color:#111;" +
    "border:1px solid #555;border-radius:.5rem;padding:1rem 1.25rem;font:15px/1.4 system-ui," +
    "sans-serif;box-shadow:0 .5rem 2rem rgba(0,0,0,.3)}.tutela-b h2{font-size:1.15rem;" +
    "margin:0 0 .5rem}.tutela-b ul{list-style:none;padding:0;margin:.75rem 0}.tutela-b li" +
    "{margin:.5rem 0}.tutela-b small{display:block;color:#444;margin-left:1.6rem}" +
    ".tutela-b .tutela-btns{display:flex;flex-wrap:wrap;gap:.5rem}.tutela-b button{flex:1;" +
    "padding:.55rem .8rem;border:2px solid #111;border-radius:.3rem;background:#fff;color:#111;" +
    "font:inherit;cursor:pointer}.tutela-b button:focus,.tutela-b input:focus{outline:3px solid" +
    " #1a5fb4;outline-offset:2px}";

  function close() {
    if (!box) return;
    box.parentNode.removeChild(box);
    box = null;
    if (before && before.focus) before.focus();
  }
  function open() {
    if (!cfg || box) return;
    var t = cfg.texts;
    before = D.activeElement;
    if (!D.getElementById("tutela-b-css")) {
      var st = el("style", {id: "tutela-b-css"});
      st.textContent = CSS;
      D.head.appendChild(st);
    }
    box = el("div", {"class": "tutela-b", role: "dialog", "aria-modal": "true",
      "aria-labelledby": "tutela-b-title", "aria-describedby": "tutela-b-intro",
      lang: cfg.language, id: "tutela-banner"});
    box.appendChild(el("h2", {id: "tutela-b-title"}, t.title));
    var intro = cfg.ask_again && state ? t.changed + " " + t.intro : t.intro;
    box.appendChild(el("p", {id: "tutela-b-intro"}, intro));
    var list = el("ul", {});
    var boxes = {}, against = {};
    function row(cat, kind) {
      var id = "tutela-b-" + cat.purpose;
      var li = el("li", {});
      var input = el("input", {type: "checkbox", id: id, name: cat.purpose});
      var note = "";
      if (kind === "on") { input.checked = true; input.disabled = true; note = t.always_on; }
      else if (kind === "gpc") { input.disabled = true; note = t.gpc; }
      else if (kind === "object") {
        input.checked = !(state && state.o && state.o[cat.purpose] === true && !cfg.ask_again);
        against[cat.purpose] = input;
      } else {
        input.checked = !!(state && state.c[cat.purpose] === true && !cfg.ask_again);
        boxes[cat.purpose] = input;
      }
      var label = el("label", {"for": id}, " " + cat.label);
      li.appendChild(input);
      li.appendChild(label);
      var text = cat.description + (note ? (cat.description ? " " : "") + "(" + note + ")" : "");
      if (text) {
        var small = el("small", {id: id + "-d"}, text);
        input.setAttribute("aria-describedby", id + "-d");
        li.appendChild(small);
      }
      list.appendChild(li);
    }
    var i;
    for (i = 0; i < cfg.always_on.length; i++) row(cfg.always_on[i], "on");
    for (i = 0; i < cfg.categories.length; i++) {
      var cat = cfg.categories[i];
      row(cat, gpcOff(cat.purpose) ? "gpc" : "ask");
    }
    box.appendChild(list);
    if (cfg.objectable.length) {
      box.appendChild(el("p", {}, t.object));
      list = el("ul", {});
      for (i = 0; i < cfg.objectable.length; i++) {
        var oc = cfg.objectable[i];
        row(oc, gpcOff(oc.purpose) ? "gpc" : "object");
      }
      box.appendChild(list);
    }
    var btns = el("div", {"class": "tutela-btns"});
    function choose(value) {
      var choices = {}, objections = {}, j, p;
      for (j = 0; j < cfg.categories.length; j++) {
        p = cfg.categories[j].purpose;
        choices[p] = gpcOff(p) ? false : value === null ? boxes[p].checked : value;
      }
      for (j = 0; j < cfg.objectable.length; j++) {
        p = cfg.objectable[j].purpose;
        objections[p] = gpcOff(p) ? true : value === null ? !against[p].checked : !value;
      }
      close();
      record(choices, objections);
    }
    var buttons = [["reject_all", false], ["save", null], ["accept_all", true]];
    for (i = 0; i < buttons.length; i++) {
      (function (b) {
        var button = el("button", {type: "button", "data-action": b[0]}, t[b[0]]);
        button.addEventListener("click", function () { choose(b[1]); });
        btns.appendChild(button);
      })(buttons[i]);
    }
    box.appendChild(btns);
    box.addEventListener("keydown", function (ev) {
      if (ev.key !== "Tab") return;
      var f = box.querySelectorAll("input:not([disabled]),button");
      var first = f[0], last = f[f.length - 1];
      if (ev.shiftKey && D.activeElement === first) { last.focus(); ev.preventDefault(); }
      else if (!ev.shiftKey && D.activeElement === last) { first.focus(); ev.preventDefault(); }
    });
    D.body.appendChild(box);
    (box.querySelector("input:not([disabled])") || box.querySelector("button")).focus();
  }

  function start() {
    if (cfg.gpc.signal) gpc = true;
    var ask = [], pending = {}, against = {}, quiet = false, i, p;
    var told = state && state.o ? state.o : {};
    for (i = 0; i < cfg.categories.length; i++) {
      p = cfg.categories[i].purpose;
      if (gpcOff(p)) {
        if (!state || state.c[p] !== false || cfg.ask_again) { pending[p] = false; quiet = true; }
      } else if (!state || cfg.ask_again || typeof state.c[p] !== "boolean") ask.push(p);
    }
    for (i = 0; i < cfg.objectable.length; i++) {
      p = cfg.objectable[i].purpose;
      if (gpcOff(p)) {
        if (told[p] !== true || cfg.ask_again) { against[p] = true; quiet = true; }
      } else if (cfg.ask_again || typeof told[p] !== "boolean") ask.push(p);
    }
    activate();
    if (ask.length) open();
    else if (quiet) record(pending, against); // GPC refuses and objects without asking
  }
  function ready(fn) {
    if (D.readyState === "loading") D.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  W.tutelaBanner = {
    open: open,
    allowed: function (name) { return !!cfg && allowed(name); },
    visitor: function () { return state ? state.v : null; }
  };
  state = readState();
  var url = base + "/v1/banner/config";
  if (state && state.p) url += "?since=" + encodeURIComponent(state.p);
  W.fetch(url, {credentials: "omit"}).then(function (r) {
    if (!r.ok) throw new Error("status " + r.status);
    return r.json();
  }).then(function (c) {
    cfg = c;
    ready(start);
  }, function () { /* no configuration: nothing optional runs */ });
})();
