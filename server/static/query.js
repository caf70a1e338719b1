// The query page: a small SPARQL editor over /sparql and the named queries at /queries/{name}.
// Everything that comes from the data or the server is inserted with textContent, never as HTML.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("page-config").textContent);
  var catalogue = JSON.parse(document.getElementById("catalogue").textContent);
  var ACCEPT = "application/sparql-results+json, text/turtle;q=0.9";
  var LOCAL = /^[a-z0-9-]+\/[A-Za-z0-9._~-]+$/;
  var EXTENSIONS = { csv: "csv", json: "json", ttl: "ttl", jsonld: "jsonld" };

  var editor = document.getElementById("editor");
  var queryForm = document.getElementById("query-form");
  var paramForm = document.getElementById("param-form");
  var paramFields = document.getElementById("param-fields");
  var statusLine = document.getElementById("status");
  var errorBox = document.getElementById("error");
  var truncatedNote = document.getElementById("truncated");
  var result = document.getElementById("result");
  var downloads = document.getElementById("downloads");
  var runButton = document.getElementById("run");
  var namedButton = document.getElementById("run-named");

  var current = null; // what ran last: {kind: "sparql", query} or {kind: "named", name, params}
  var selected = null; // the named query picked from the list
  var tabLeaves = false; // after Esc, Tab moves the focus out of the editor

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function compact(iri) {
    var best = null;
    Object.keys(config.prefixes).forEach(function (prefix) {
      var ns = config.prefixes[prefix];
      if (iri.indexOf(ns) === 0 && iri.length > ns.length && (!best || ns.length > best[1].length)) {
        best = [prefix, ns];
      }
    });
    return best ? best[0] + ":" + iri.slice(best[1].length) : iri;
  }

  function localPath(iri) {
    if (iri.indexOf(config.resourceBase) !== 0) return null;
    var rest = iri.slice(config.resourceBase.length);
    return LOCAL.test(rest) ? config.root + "/id/" + rest : null;
  }

  // --- the editor ----------------------------------------------------------------------------

  editor.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      runEditor();
      return;
    }
    if (event.key === "Escape") {
      tabLeaves = true;
      return;
    }
    if (event.key === "Tab" && !tabLeaves && !event.ctrlKey && !event.altKey && !event.metaKey) {
      event.preventDefault();
      var start = editor.selectionStart;
      var end = editor.selectionEnd;
      if (event.shiftKey) {
        var lineStart = editor.value.lastIndexOf("\n", start - 1) + 1;
        var removable = editor.value.slice(lineStart, lineStart + 2).match(/^ {1,2}/);
        if (removable) {
          editor.setRangeText("", lineStart, lineStart + removable[0].length, "preserve");
        }
      } else {
        editor.setRangeText("  ", start, end, "end");
      }
      return;
    }
    tabLeaves = false;
  });
  editor.addEventListener("focus", function () { tabLeaves = false; });

  queryForm.addEventListener("submit", function (event) {
    event.preventDefault();
    runEditor();
  });

  function runEditor() {
    current = { kind: "sparql", query: editor.value };
    execute(current, null);
  }

  // --- named queries -------------------------------------------------------------------------

  document.getElementById("examples").addEventListener("click", function (event) {
    var button = event.target.closest("button.example");
    if (button) pick(button.getAttribute("data-name"));
  });

  function pick(name) {
    var query = catalogue.find(function (q) { return q.name === name; });
    if (!query) return;
    selected = query;
    editor.value = query.text;
    document.querySelectorAll("button.example").forEach(function (b) {
      b.classList.toggle("selected", b.getAttribute("data-name") === name);
      b.setAttribute("aria-pressed", b.getAttribute("data-name") === name ? "true" : "false");
    });
    paramFields.textContent = "";
    document.getElementById("param-title").textContent = "Parameters of " + query.name;
    document.getElementById("param-summary").textContent = query.summary;
    query.params.forEach(function (param) {
      var id = "param-" + param.name;
      var row = el("div", "param");
      var label = el("label", null, param.name);
      label.htmlFor = id;
      label.appendChild(el("span", "tag", param.type + (param.required ? ", required" : "")));
      var input = el("input");
      input.id = id;
      input.name = param.name;
      input.value = param.example || param.default || "";
      input.placeholder = param.description || param.type;
      input.required = !!param.required;
      row.appendChild(label);
      row.appendChild(input);
      if (param.description) row.appendChild(el("p", "small muted", param.description));
      paramFields.appendChild(row);
    });
    paramForm.hidden = query.params.length === 0;
    statusLine.textContent = query.params.length
      ? "Loaded " + query.name + ": set its parameters and run it as a named query, or edit the text."
      : "Loaded " + query.name + ": press Run (or Ctrl+Enter).";
  }

  paramForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!selected) return;
    var params = [];
    paramFields.querySelectorAll("input").forEach(function (input) {
      if (input.value.trim()) params.push([input.name, input.value.trim()]);
    });
    current = { kind: "named", name: selected.name, params: params };
    execute(current, null);
  });

  // --- running -------------------------------------------------------------------------------

  function request(run, format) {
    if (run.kind === "named") {
      var search = new URLSearchParams(run.params);
      if (format) search.append("format", format);
      var url = config.root + "/queries/" + encodeURIComponent(run.name);
      var qs = search.toString();
      return fetch(qs ? url + "?" + qs : url, { headers: { Accept: ACCEPT } });
    }
    var body = new URLSearchParams();
    body.append("query", run.query);
    if (format) body.append("format", format);
    return fetch(config.root + "/sparql", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: ACCEPT },
      body: body,
    });
  }

  function busy(on) {
    runButton.disabled = on;
    namedButton.disabled = on;
    result.setAttribute("aria-busy", on ? "true" : "false");
  }

  function execute(run) {
    errorBox.hidden = true;
    errorBox.textContent = "";
    truncatedNote.hidden = true;
    downloads.hidden = true;
    statusLine.textContent = "Running…";
    busy(true);
    var started = performance.now();
    request(run, null)
      .then(function (response) {
        if (!response.ok) {
          return response.text().then(function (text) { showError(run, response.status, text); });
        }
        var type = (response.headers.get("content-type") || "").toLowerCase();
        var truncated = response.headers.get("x-result-truncated");
        var maxRows = response.headers.get("x-max-rows");
        var read = type.indexOf("json") >= 0 && type.indexOf("ld+json") < 0
          ? response.json().then(function (data) { return showResults(data); })
          : response.text().then(function (text) { return showGraph(text); });
        return read.then(function (summary) {
          var ms = Math.round(performance.now() - started);
          statusLine.textContent = summary + " · " + ms + " ms";
          if (truncated) {
            truncatedNote.textContent = "The result was cut to the first " + (maxRows || "")
              + " rows (X-Result-Truncated): add LIMIT or narrow the query to see all of it.";
            truncatedNote.hidden = false;
          }
        });
      })
      .catch(function (error) {
        showError(run, 0, "The server could not be reached: " + error.message);
      })
      .finally(function () { busy(false); });
  }

  function showError(run, status, text) {
    result.textContent = "";
    var heading;
    var message = text;
    if (status === 400) {
      heading = "The query has an error (400)";
      var at = /(?:at|line) (\d+):(\d+)/.exec(text);
      if (at && run.kind === "sparql") {
        heading += " at line " + at[1] + ", column " + at[2];
        selectPosition(Number(at[1]), Number(at[2]));
      }
    } else if (status === 503) {
      heading = "The query took too long (503)";
    } else if (status === 422) {
      heading = "A parameter is not right (422)";
      try {
        var detail = JSON.parse(text).detail;
        message = typeof detail === "string" ? detail : detail.param + ": " + detail.message;
      } catch (e) { /* keep the text as it came */ }
    } else if (status === 0) {
      heading = "No answer";
    } else {
      heading = "The server answered " + status;
    }
    errorBox.textContent = "";
    errorBox.appendChild(el("strong", null, heading));
    errorBox.appendChild(el("pre", null, message));
    errorBox.hidden = false;
    statusLine.textContent = "";
  }

  function selectPosition(line, column) {
    var lines = editor.value.split("\n");
    var offset = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    offset += Math.max(0, column - 1);
    editor.focus();
    editor.setSelectionRange(offset, Math.min(editor.value.length, offset + 1));
  }

  function setDownloads(kind) {
    downloads.querySelectorAll("button.download").forEach(function (button) {
      var format = button.getAttribute("data-format");
      var graph = format === "ttl" || format === "jsonld";
      button.hidden = kind === "graph" ? !graph : graph;
    });
    downloads.hidden = false;
  }

  function showResults(data) {
    result.textContent = "";
    if (typeof data.boolean === "boolean") {
      result.appendChild(el("p", "boolean", data.boolean ? "yes (true)" : "no (false)"));
      setDownloads("table");
      return "ASK";
    }
    var vars = data.head.vars || [];
    var rows = data.results.bindings || [];
    var wrap = el("div", "table-wrap");
    var table = el("table", "results");
    var head = table.createTHead().insertRow();
    vars.forEach(function (name) {
      var th = el("th", null, "?" + name);
      th.scope = "col";
      head.appendChild(th);
    });
    var body = table.createTBody();
    rows.forEach(function (row) {
      var tr = body.insertRow();
      vars.forEach(function (name) {
        var td = tr.insertCell();
        if (row[name]) td.appendChild(term(row[name]));
      });
    });
    wrap.appendChild(table);
    result.appendChild(wrap);
    setDownloads("table");
    return rows.length + " row" + (rows.length === 1 ? "" : "s");
  }

  function term(t) {
    if (t.type === "uri") {
      var local = localPath(t.value);
      var link;
      if (local) {
        link = el("a", "local", compact(t.value));
        link.href = local;
      } else if (/^https?:\/\//i.test(t.value)) {
        link = el("a", "external", compact(t.value));
        link.href = t.value;
        link.rel = "noopener";
      } else {
        link = el("span", "iri", compact(t.value));
      }
      link.title = t.value;
      return link;
    }
    if (t.type === "literal") {
      var span = el("span", "literal");
      var value = el("span", null, t.value);
      if (t["xml:lang"]) value.lang = t["xml:lang"];
      span.appendChild(value);
      if (t["xml:lang"]) span.appendChild(el("span", "tag", "@" + t["xml:lang"]));
      else if (t.datatype) span.appendChild(el("span", "tag", compact(t.datatype)));
      return span;
    }
    if (t.type === "bnode") return el("span", "bnode", "_:" + t.value);
    if (t.type === "triple") {
      var triple = el("span", "triple");
      triple.appendChild(document.createTextNode("<< "));
      ["subject", "predicate", "object"].forEach(function (k) {
        triple.appendChild(term(t.value[k]));
        triple.appendChild(document.createTextNode(" "));
      });
      triple.appendChild(document.createTextNode(">>"));
      return triple;
    }
    return el("span", null, String(t.value));
  }

  function showGraph(text) {
    result.textContent = "";
    result.appendChild(el("pre", "turtle", text));
    setDownloads("graph");
    return "Graph result (Turtle)";
  }

  // --- downloads -----------------------------------------------------------------------------

  downloads.addEventListener("click", function (event) {
    var button = event.target.closest("button.download");
    if (!button || !current) return;
    var format = button.getAttribute("data-format");
    var run = current;
    button.disabled = true;
    request(run, format)
      .then(function (response) {
        if (!response.ok) {
          return response.text().then(function (text) { showError(run, response.status, text); });
        }
        return response.blob().then(function (blob) {
          var link = document.createElement("a");
          link.href = URL.createObjectURL(blob);
          link.download = (run.kind === "named" ? run.name : "query-result") + "." + EXTENSIONS[format];
          document.body.appendChild(link);
          link.click();
          link.remove();
          setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
        });
      })
      .catch(function (error) { showError(run, 0, error.message); })
      .finally(function () { button.disabled = false; });
  });

  if (config.preselect) pick(config.preselect);
})();

// Autocompletion of resources for the editor: names from the label index (/search?format=json),
// as the user types; picking one writes its IRI where the cursor is.
(function () {
  "use strict";

  var finder = document.getElementById("resource-finder");
  var list = document.getElementById("resource-hits");
  var editor = document.getElementById("editor");
  if (!finder || !list || !editor) return;
  var config = JSON.parse(document.getElementById("page-config").textContent);
  var root = config.root || "";
  var timer = null;
  var asked = "";
  var known = {};

  function fill(results) {
    while (list.firstChild) list.removeChild(list.firstChild);
    known = {};
    results.forEach(function (hit) {
      var option = document.createElement("option");
      var name = hit.name || hit.iri;
      option.value = hit.iri;
      option.label = hit.nameZh && hit.nameZh !== name ? name + " · " + hit.nameZh : name;
      option.textContent = option.label;
      known[hit.iri] = true;
      list.appendChild(option);
    });
  }

  function insert(iri) {
    var start = editor.selectionStart, end = editor.selectionEnd;
    var text = "<" + iri + ">";
    editor.value = editor.value.slice(0, start) + text + editor.value.slice(end);
    editor.selectionStart = editor.selectionEnd = start + text.length;
    finder.value = "";
    editor.focus();
  }

  finder.addEventListener("input", function () {
    var q = finder.value.trim();
    if (known[q]) { insert(q); return; }
    clearTimeout(timer);
    if (!q || q === asked) return;
    timer = setTimeout(function () {
      asked = q;
      fetch(root + "/search?" + new URLSearchParams({ q: q, format: "json", limit: "10" }))
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (body) { if (finder.value.trim() === q) fill(body.results || []); })
        .catch(function () { fill([]); });
    }, 150);
  });
})();
