/* Draws a picture of the partnership web with vis-network (loaded before this script).
 * The data comes from the JSON block #viz-data (see graph/viz.py). Tooltips are built as DOM
 * elements whose text is set with textContent, so labels from the data are never parsed as HTML.
 */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("viz-data").textContent);
  var container = document.getElementById("viz-network");

  function line(parent, text, className) {
    var el = document.createElement("div");
    if (className) { el.className = className; }
    el.textContent = text;
    parent.appendChild(el);
    return el;
  }

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  function nodeTip(t) {
    var box = document.createElement("div");
    box.className = "viz-tip";
    line(box, t.label, "viz-tip-title");
    if (t.label_zh) { line(box, t.label_zh, "viz-tip-zh"); }
    var facts = [t["class"], t.country].filter(Boolean);
    if (facts.length) { line(box, facts.join(" · "), "viz-tip-meta"); }
    if (t.actors !== undefined) {
      line(box, plural(t.actors, "actor", "actors") + ", " +
        plural(t.partnerships, "partnership", "partnerships") + " (" + t.domestic +
        " within the country)");
    } else if (t.degree !== undefined) {
      line(box, plural(t.degree, "partner", "partners") + ", " +
        plural(t.weighted_degree, "shared partnership", "shared partnerships"));
    }
    if (t.distance !== undefined) { line(box, plural(t.distance, "hop", "hops") + " from the centre"); }
    return box;
  }

  function edgeTip(t) {
    var box = document.createElement("div");
    box.className = "viz-tip";
    line(box, t.ends[0] + " — " + t.ends[1], "viz-tip-title");
    line(box, plural(t.weight, "partnership", "partnerships"), "viz-tip-meta");
    var list = document.createElement("ul");
    t.partnerships.forEach(function (p) {
      var item = document.createElement("li");
      line(item, [p.label, p.label_zh].filter(Boolean).join(" · "));
      line(item, p.kinds.join(", ") + " · " + (p.date || "date not stated"), "viz-tip-meta");
      list.appendChild(item);
    });
    box.appendChild(list);
    if (t.more) { line(box, "and " + t.more + " more", "viz-tip-meta"); }
    return box;
  }

  data.nodes.forEach(function (n) { n.title = nodeTip(n.tip); });
  data.edges.forEach(function (e, i) { e.id = "e" + i; e.title = edgeTip(e.tip); });
  var nodes = new vis.DataSet(data.nodes);
  var edges = new vis.DataSet(data.edges);
  var network = new vis.Network(container, { nodes: nodes, edges: edges }, data.options);

  // Once laid out, the picture stops moving: a large one stays responsive.
  var settled = false;
  function stable() {
    if (settled) { return; }
    settled = true;
    network.setOptions({ physics: false });
    document.body.setAttribute("data-stable", "true");
  }
  network.once("stabilizationIterationsDone", stable);
  network.once("stabilized", stable);
  if (!data.nodes.length) { stable(); }

  network.on("click", function (params) {
    if (!params.nodes.length) { return; }
    var node = nodes.get(params.nodes[0]);
    if (node && node.url) { window.location.assign(node.url); }
  });
  network.on("hoverNode", function (params) {
    var node = nodes.get(params.node);
    container.style.cursor = node && node.url ? "pointer" : "default";
  });
  network.on("blurNode", function () { container.style.cursor = "default"; });

  window.viz = { network: network, nodes: nodes, edges: edges, data: data };
}());
