// The query page: YASGUI (vendored) configured for this server. No completer calls another host:
// YASGUI's own prefix and class/property completers (prefix.cc, LOV) are replaced by ones that
// complete from our prefixes and the ontology's terms, given in the page. Result links to IRIs
// of this graph are pointed at our entity pages.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("yasgui-config").textContent);
  var Yasqe = Yasgui.Yasqe;
  var LOCAL = /^[a-z0-9-]+\/[A-Za-z0-9._~-]+$/;
  var endpoint = window.location.origin + config.root + "/sparql";
  var prefixList = Object.keys(config.prefixes).sort().map(function (p) {
    return p + ": <" + config.prefixes[p] + ">";
  });

  // Completers over local lists (an array `get` is used as is, never fetched nor cached).
  Yasqe.forkAutocompleter("prefixes", { name: "local-prefixes", get: prefixList,
                                        persistenceId: null }, false);
  Yasqe.forkAutocompleter("class", { name: "local-classes", bulk: true,
                                     get: config.vocabulary.classes, persistenceId: null }, false);
  Yasqe.forkAutocompleter("property", { name: "local-properties", bulk: true,
                                        get: config.vocabulary.properties,
                                        persistenceId: null }, false);
  var completers = ["local-prefixes", "variables", "local-classes", "local-properties"];
  // Set, not merged: YASGUI merges configuration arrays by index, which would keep the remote
  // completers behind ours.
  Yasqe.defaults.autocompleters = completers.slice();
  Yasgui.defaults.yasqe.autocompleters = completers.slice();

  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    persistenceId: null, // tabs come from the catalogue each time, not from an old visit
    // A shared link (?query=…) fills and runs a tab, but always against this server: a link's
    // `endpoint` is ignored (the page's Content-Security-Policy would block another host too).
    populateFromUrl: function (tab) {
      tab.requestConfig.endpoint = endpoint;
      return tab;
    },
    copyEndpointOnNewTab: true,
    tabName: "Query",
    requestConfig: { endpoint: endpoint, method: "POST" },
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    yasqe: { value: config.start },
    yasr: { prefixes: config.prefixes },
  });

  // The named queries as example tabs, after the first one.
  var byName = {};
  config.examples.forEach(function (q) {
    var tab = yasgui.addTab(false, { name: q.name, yasqe: { value: q.text } });
    byName[q.name] = tab.getId();
  });
  if (config.preselect && byName[config.preselect]) yasgui.selectTabId(byName[config.preselect]);

  // IRIs of this graph open our pages, in this window.
  function localPath(iri) {
    if (iri.indexOf(config.resourceBase) !== 0) return null;
    var rest = iri.slice(config.resourceBase.length);
    return LOCAL.test(rest) ? config.root + "/id/" + rest : null;
  }
  function relink(root) {
    root.querySelectorAll(".yasr a[href]").forEach(function (a) {
      var path = localPath(a.getAttribute("href"));
      if (path) {
        a.setAttribute("href", path);
        a.removeAttribute("target");
        a.classList.add("local-iri");
      }
    });
  }
  new MutationObserver(function () { relink(document.getElementById("yasgui")); })
    .observe(document.getElementById("yasgui"), { childList: true, subtree: true });

  window.citydipYasgui = yasgui; // for the browser tests and the curious
})();
