// The partnership map: d3-geo projects points and great-circle arcs over Natural Earth outlines
// (topojson-client). Everything is built as SVG elements; labels from the data go in with
// textContent (a <title>), never as markup. The year slider and kind boxes only hide elements.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var data = JSON.parse(document.getElementById("map-data").textContent);
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var svg = document.getElementById("map");
  var W = 960, H = 500;
  // Centred on the actor's meridian, so that its ties across the Pacific are not cut in two.
  var centre = data.points.filter(function (p) { return p.id === data.centre; })[0];
  var projection = d3.geoNaturalEarth1().rotate([centre ? -centre.lon : 0, 0])
    .fitExtent([[6, 6], [W - 6, H - 6]], { type: "Sphere" });
  var path = d3.geoPath(projection);

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) {
      if (attrs[k] !== null && attrs[k] !== undefined) node.setAttribute(k, attrs[k]);
    });
    if (parent) parent.appendChild(node);
    return node;
  }
  function titled(node, text) {
    el("title", {}, node).textContent = text;
    return node;
  }
  function linked(parent, href) {
    return href ? el("a", { href: href }, parent) : el("g", {}, parent);
  }

  el("path", { d: path({ type: "Sphere" }), "class": "sphere" }, svg);
  el("path", { d: path(d3.geoGraticule10()), "class": "graticule" }, svg);
  var land = el("g", { "class": "countries" }, svg);
  var arcs = el("g", { "class": "arcs" }, svg);
  var points = el("g", { "class": "points" }, svg);

  fetch(config.root + "/static/vendor/world-atlas/countries-110m.json")
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
    .then(function (world) {
      topojson.feature(world, world.objects.countries).features.forEach(function (f) {
        titled(el("path", { d: path(f), "class": "country" }, land), (f.properties || {}).name || "");
      });
      svg.setAttribute("data-outlines", "ready");
    })
    .catch(function () { svg.setAttribute("data-outlines", "failed"); });

  var colours = {}, dashes = {};
  data.kinds.forEach(function (k) { colours[k.id] = k.colour; dashes[k.id] = k.dash; });
  document.querySelectorAll(".swatch").forEach(function (s) {
    var box = el("svg", { width: "22", height: "6", viewBox: "0 0 22 6" }, s);
    el("line", { x1: "0", y1: "3", x2: "22", y2: "3", stroke: s.getAttribute("data-colour"),
                 "stroke-width": "3", "stroke-dasharray": s.getAttribute("data-dash") }, box);
  });

  var byId = {};
  data.points.forEach(function (p) { byId[p.id] = p; });
  var arcNodes = data.ties.map(function (t) {
    var a = byId[t.source], b = byId[t.target];
    var line = { type: "LineString", coordinates: [[a.lon, a.lat], [b.lon, b.lat]] };
    var holder = linked(arcs, t.href);
    var arc = el("path", { d: path(line), "class": "arc", stroke: colours[t.kind] || "#95a5a6",
                           "stroke-dasharray": dashes[t.kind],
                           "data-kind": t.kind, "data-year": t.year === null ? "" : t.year,
                           "data-source": t.source, "data-target": t.target }, holder);
    titled(arc, t.label + (t.date ? " (" + t.date + ")" : "") + ": " + a.label + " – " + b.label);
    return { tie: t, node: holder };
  });
  var pointNodes = data.points.map(function (p) {
    var xy = projection([p.lon, p.lat]);
    var holder = linked(points, p.href);
    var circle = el("circle", { cx: xy[0].toFixed(2), cy: xy[1].toFixed(2),
                                r: p.id === data.centre ? 5 : 3.2,
                                "class": "point" + (p.id === data.centre ? " centre" : ""),
                                "data-id": p.id }, holder);
    titled(circle, p.label + (p.label_zh && p.label_zh !== p.label ? " · " + p.label_zh : ""));
    return { point: p, node: holder };
  });

  var year = document.getElementById("year");
  var yearValue = document.getElementById("year-value");
  var undated = document.getElementById("undated");
  function apply() {
    var asOf = year ? Number(year.value) : Infinity;
    var withUndated = undated ? undated.checked : true;
    var kinds = {};
    document.querySelectorAll(".kind-toggle").forEach(function (box) { kinds[box.value] = box.checked; });
    var shown = {};
    arcNodes.forEach(function (a) {
      var t = a.tie;
      var visible = (t.year === null ? withUndated : t.year <= asOf) && kinds[t.kind] !== false;
      a.node.classList.toggle("hidden", !visible);
      if (visible) { shown[t.source] = true; shown[t.target] = true; }
    });
    pointNodes.forEach(function (p) {
      var keep = shown[p.point.id] || p.point.id === data.centre || data.ties.length === 0;
      p.node.classList.toggle("hidden", !keep);
    });
    if (yearValue && year) yearValue.textContent = year.value;
  }
  if (year) year.addEventListener("input", apply);
  if (undated) undated.addEventListener("change", apply);
  document.querySelectorAll(".kind-toggle").forEach(function (box) {
    box.addEventListener("change", apply);
  });
  apply();
  svg.setAttribute("data-ready", "true");
})();
