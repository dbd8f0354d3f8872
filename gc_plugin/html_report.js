// gc_plugin's HTML report: draws the icicles of gc_plugin/html_report.py from
// the document embedded in #gcp-data. Names reach the page only through
// textContent and setAttribute, never as markup.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg"; // a namespace name, never fetched
  var W = 1000, H = 440, COLS = [150, 330, 520];
  var MAX_CHILDREN = 40; // per parent; the rest become one "more" node
  var KIND_COLORS = { definite: "#d64541", indirect: "#e8913a", possible: "#e6c84a" };
  var doc = JSON.parse(document.getElementById("gcp-data").textContent);

  function num(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function size(n) {
    var units = ["B", "KiB", "MiB", "GiB"], i = 0, x = n;
    while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
    return i === 0 ? num(n) + " B" : x.toFixed(1) + " " + units[i];
  }
  function int(v) {
    return typeof v === "number" && isFinite(v) && v > 0 ? v : 0;
  }
  function node(name, parent) {
    return { name: name, bytes: 0, blocks: 0, children: [], index: {}, parent: parent };
  }
  function child(parent, name) {
    var key = "k" + name; // no clash with Object.prototype's names
    if (!Object.prototype.hasOwnProperty.call(parent.index, key)) {
      parent.index[key] = node(name, parent);
      parent.children.push(parent.index[key]);
    }
    return parent.index[key];
  }
  function add(n, blocks, bytes) {
    for (; n; n = n.parent) { n.blocks += blocks; n.bytes += bytes; }
  }
  // keep the largest children; fold the rest into one node
  function prune(n) {
    n.children.sort(function (a, b) { return b.bytes - a.bytes; });
    if (n.children.length > MAX_CHILDREN) {
      var rest = n.children.splice(MAX_CHILDREN - 1);
      var more = node(num(rest.length) + " more", n);
      rest.forEach(function (c) { more.bytes += c.bytes; more.blocks += c.blocks; });
      more.folded = true;
      n.children.push(more);
    }
    n.children.forEach(prune);
  }

  function liveTree() {
    var root = node("live", null);
    var cross = Array.isArray(doc.by_module_type);
    var rows = cross ? doc.by_module_type : Array.isArray(doc.by_module) ? doc.by_module : [];
    rows.forEach(function (r) {
      if (!r || typeof r !== "object") return;
      var m = child(root, r.module == null ? "(interpreter)" : String(r.module));
      var leaf = cross ? child(m, r.type == null ? "(not an object)" : String(r.type)) : m;
      add(leaf, int(r.blocks), int(r.bytes));
    });
    return root;
  }
  function lostTree() {
    var root = node("lost", null);
    var sites = doc.leaks && Array.isArray(doc.leaks.sites) ? doc.leaks.sites : [];
    sites.forEach(function (s) {
      if (!s || typeof s !== "object" || !KIND_COLORS.hasOwnProperty(s.kind)) return;
      var m = child(root, s.module == null ? "(interpreter)" : String(s.module));
      var leaf = node(s.site == null ? "(unknown site)" : String(s.site), m);
      leaf.kind = s.kind;
      leaf.type = s.type == null ? null : String(s.type);
      leaf.traceback = Array.isArray(s.traceback) ? s.traceback.map(String) : [];
      m.children.push(leaf);
      add(leaf, int(s.blocks), int(s.bytes));
    });
    return root;
  }

  function path(n) {
    var names = [];
    for (; n; n = n.parent) names.unshift(n.name);
    return names.join(" \u203a ");
  }
  function colorOf(n, hues) {
    if (n.kind) return KIND_COLORS[n.kind];
    if (!n.parent) return "#c9ced6";
    var top = n;
    while (top.parent && top.parent.parent) top = top.parent;
    if (!hues.has(top)) hues.set(top, (hues.size * 47) % 360);
    return "hsl(" + hues.get(top) + ", 55%, " + (top === n ? 62 : 76) + "%)";
  }
  function el(name, attrs, parent) {
    var e = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    parent.appendChild(e);
    return e;
  }
  function describe(n, total) {
    var s = path(n) + "\n" + size(n.bytes) + " (" + num(n.bytes) + " bytes) in " +
      num(n.blocks) + " blocks";
    if (total > 0) s += ", " + (100 * n.bytes / total).toFixed(1) + "%";
    if (n.kind) s += "\nkind: " + n.kind;
    if (n.type) s += "\ntype: " + n.type;
    if (n.traceback && n.traceback.length) s += "\n  " + n.traceback.join("\n  ");
    if (n.folded) s += "\n(the smaller ones, folded together)";
    return s;
  }

  // an icicle: the focus in the first column, its children and theirs to the right
  function draw(box, root, focus, info, hues) {
    var old = box.querySelector("svg");
    if (old) box.removeChild(old);
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img" }, box);
    var count = 0;
    function place(n, depth, x, y, h) {
      if (depth >= COLS.length || h < 0.3) return;
      var w = COLS[depth], g = el("g", { "class": "node" }, svg);
      el("rect", { x: x + 0.5, y: y + 0.25, width: w - 1, height: Math.max(h - 0.5, 0.3),
        fill: colorOf(n, hues) }, g);
      el("title", {}, g).textContent = describe(n, root.bytes);
      if (h >= 13) {
        var tail = "  " + size(n.bytes), label = n.name;
        var room = Math.floor((w - 10) / 6.6) - tail.length;
        if (label.length > room) label = label.slice(0, Math.max(room - 1, 1)) + "\u2026";
        label += tail;
        el("text", { x: x + 5, y: y + Math.min(h / 2, 16) + 4 }, g).textContent = label;
      }
      g.addEventListener("mouseover", function () { info.textContent = describe(n, root.bytes); });
      var target = depth === 0 ? (n.parent || n) : (n.children.length ? n : null);
      if (target && target !== focus) {
        g.setAttribute("class", "node zoom");
        g.addEventListener("click", function () { draw(box, root, target, info, hues); });
      }
      count++;
      var cy = y;
      n.children.forEach(function (c) {
        var ch = n.bytes > 0 ? (h * c.bytes) / n.bytes : 0;
        place(c, depth + 1, x + w, cy, ch);
        cy += ch;
      });
    }
    place(focus, 0, 0, 0, H);
    box.setAttribute("data-nodes", String(count));
  }

  function show(id, tree, empty) {
    var box = document.getElementById(id);
    if (!box) return;
    box.textContent = "";
    prune(tree);
    if (tree.bytes <= 0) {
      var p = document.createElement("p");
      p.className = "empty";
      p.textContent = empty;
      box.appendChild(p);
      box.setAttribute("data-nodes", "0");
      return;
    }
    var info = document.createElement("pre");
    info.className = "info";
    info.textContent = "Point at a box for its numbers; click one to zoom in, the left column to zoom out.";
    box.appendChild(info);
    draw(box, tree, tree, info, new Map());
  }

  show("live-chart", liveTree(), "No live blocks in gc_plugin's pool.");
  show("lost-chart", lostTree(), "No lost bytes: no definite, indirect or possible leak.");
  document.documentElement.setAttribute("data-gcp-drawn", "yes");
})();
