/*
 * Lookout browser telemetry: reports Core Web Vitals to a Lookout project.
 *
 *   <script async src="https://lookout.example/static/lookout/vitals.js"
 *           data-key="PROJECT_INGEST_KEY"></script>
 *
 * Optional attributes: data-route (the page's route template, e.g. "/products/:id";
 * default: location.pathname) and data-endpoint (default: this script's origin +
 * /api/v1/vitals). Metrics are queued and sent in one beacon when the page is hidden,
 * which is when the web-vitals library finalises CLS, INP and LCP.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.key || !navigator.sendBeacon) return;

  var base = new URL(script.src, location.href);
  var endpoint = new URL(script.dataset.endpoint || "/api/v1/vitals", base.origin);
  endpoint.searchParams.set("key", script.dataset.key);
  var route = script.dataset.route || location.pathname;
  var queue = [];

  function device() {
    var coarse = window.matchMedia && matchMedia("(pointer: coarse)").matches;
    if (!coarse) return "desktop";
    return Math.min(screen.width, screen.height) >= 600 ? "tablet" : "mobile";
  }

  function connection() {
    var info = navigator.connection;
    return info && info.effectiveType ? info.effectiveType : undefined;
  }

  function flush() {
    if (!queue.length) return;
    // A string body makes the beacon text/plain: a "simple" request, so no CORS preflight.
    navigator.sendBeacon(endpoint.href, JSON.stringify({ vitals: queue }));
    queue = [];
  }

  function collect(metric) {
    queue.push({
      name: metric.name,
      value: metric.value,
      rating: metric.rating,
      delta: metric.delta,
      id: metric.id,
      navigationType: metric.navigationType,
      url: location.href,
      route: route,
      device: device(),
      connection: connection(),
    });
  }

  function start() {
    var vitals = window.webVitals;
    [vitals.onCLS, vitals.onINP, vitals.onLCP, vitals.onFCP, vitals.onTTFB].forEach(function (on) {
      on(collect);
    });
  }

  addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush();
  });
  addEventListener("pagehide", flush);

  var library = document.createElement("script");
  library.src = new URL("vendor/web-vitals/web-vitals.iife.js", base).href;
  library.onload = start;
  document.head.appendChild(library);
})();
