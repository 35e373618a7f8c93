// Draws every chart spec built by monitoring/common/charts.py (<figure data-lookout-chart="{json}">)
// with unfold's bundled Chart.js. Not unfold's ".chart" canvases: those have their own renderer.
(() => {
  "use strict";

  const MINUTE = 60000, HOUR = 60 * MINUTE, DAY = 24 * HOUR;
  const STEPS = [MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY];
  // Ticks on round times (every 3 h, every day...) rather than wherever the window happens to start.
  const stepFor = (spanMs, most) => STEPS.find((step) => spanMs / step <= most) || STEPS[STEPS.length - 1];
  const formatters = new Map();
  const timeFormat = (tz, step) => {
    const key = `${tz}|${step >= DAY ? "d" : "t"}`;
    if (!formatters.has(key)) {
      const options = step >= DAY
        ? { month: "short", day: "numeric" }
        : { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
      formatters.set(key, new Intl.DateTimeFormat("en-GB", { ...options, timeZone: tz || "UTC" }));
    }
    return formatters.get(key);
  };
  const fullTime = (tz) => new Intl.DateTimeFormat("en-GB", {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    hourCycle: "h23", timeZone: tz || "UTC", timeZoneName: "short",
  });

  const number = (value, unit) => {
    if (value === null || value === undefined) return "no data";
    const abs = Math.abs(value);
    const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
    const text = Number(value).toLocaleString("en-US", { maximumFractionDigits: digits });
    return unit ? `${text}${unit === "%" ? "" : " "}${unit}` : text;
  };

  const gridColor = () => (document.documentElement.classList.contains("dark") ? "rgba(255,255,255,0.08)" : "rgba(0,0,0,0.08)");
  const textColor = () => (document.documentElement.classList.contains("dark") ? "#9ca3af" : "#6b7280");

  // Vertical lines at markers (status flips), labelled, drawn over the plot area.
  const markerPlugin = {
    id: "lookoutMarkers",
    afterDatasetsDraw(chart) {
      const markers = chart.options.plugins.lookoutMarkers?.markers || [];
      const { ctx, chartArea, scales } = chart;
      ctx.save();
      for (const marker of markers) {
        const x = scales.x.getPixelForValue(marker.at);
        if (x < chartArea.left || x > chartArea.right) continue;
        ctx.strokeStyle = marker.color;
        ctx.lineWidth = 1.5;
        ctx.setLineDash([4, 3]);
        ctx.beginPath();
        ctx.moveTo(x, chartArea.top);
        ctx.lineTo(x, chartArea.bottom);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = marker.color;
        ctx.font = "11px Inter, sans-serif";
        ctx.fillText(marker.label, Math.min(x + 3, chartArea.right - ctx.measureText(marker.label).width), chartArea.top + 10);
      }
      ctx.restore();
    },
  };

  const datasetsFor = (spec) => {
    const byLabel = new Map(spec.series.map((s, i) => [s.label, i]));
    const bars = spec.kind === "bar" || spec.kind === "share";
    return spec.series.map((s) => {
      const filled = s.points.filter((p) => p[1] !== null).length;
      const lonely = filled <= 1 || spec.kind === "spark" ? 3 : s.points.length > 60 ? 0 : 2;
      const data = spec.x.kind === "category" ? s.points.map((p) => p[1]) : s.points.map((p) => ({ x: p[0], y: p[1] }));
      const dataset = {
        label: s.label,
        data,
        borderColor: s.color,
        backgroundColor: bars ? s.color : `${s.color}33`,
        borderWidth: bars ? 0 : spec.kind === "spark" ? 1.5 : 2,
        pointRadius: bars ? 0 : lonely,
        pointHoverRadius: 4,
        borderDash: s.dashed ? [6, 4] : [],
        spanGaps: false,
        tension: 0,
        fill: false,
      };
      if (s.fill_to && byLabel.has(s.fill_to)) {
        dataset.fill = byLabel.get(s.fill_to);
        dataset.backgroundColor = `${s.color}2e`;
      }
      if (bars && spec.x.kind === "time") {
        dataset.barPercentage = 1;
        dataset.categoryPercentage = 0.9;
      }
      return dataset;
    });
  };

  const render = (figure) => {
    if (figure.dataset.drawn) return;
    const spec = JSON.parse(figure.dataset.lookoutChart);
    const canvas = figure.querySelector("canvas");
    const spark = spec.kind === "spark";
    const times = spec.series.flatMap((s) => s.points.map((p) => p[0])).filter((x) => typeof x === "number");
    const xmin = spec.x.min ?? Math.min(...times);
    const xmax = spec.x.max ?? Math.max(...times);
    // About one tick per 90 px, so labels never run into each other on a narrow chart.
    const step = stepFor(Math.max(xmax - xmin, MINUTE), Math.max(2, Math.min(8, Math.floor(figure.clientWidth / 90))));
    const tickFormat = timeFormat(spec.x.tz, step);
    const tooltipTime = fullTime(spec.x.tz);
    const bars = spec.kind === "bar" || spec.kind === "share";
    // Bars on a time axis need room at both ends for half a bar.
    const pad = bars && spec.x.kind === "time" && times.length > 1 ? (xmax - xmin) / Math.max(times.length, 2) / 2 : 0;
    const xScale = spec.x.kind === "category"
      ? { type: "category", labels: spec.series[0]?.points.map((p) => p[0]) || [] }
      : {
        type: "linear",
        min: xmin - pad - (xmin === xmax ? 60000 : 0),
        max: xmax + pad + (xmin === xmax ? 60000 : 0),
        ticks: { callback: (value) => tickFormat.format(new Date(value)), maxRotation: 0, autoSkip: false },
        afterBuildTicks: (scale) => {
          const ticks = [];
          for (let value = Math.ceil(scale.min / step) * step; value <= scale.max; value += step) ticks.push({ value });
          scale.ticks = ticks;
        },
      };
    const chart = new Chart(canvas, {
      type: bars ? "bar" : "line",
      data: { datasets: datasetsFor(spec) },
      plugins: [markerPlugin],
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        normalized: true,
        interaction: { mode: spark ? "nearest" : "index", intersect: false },
        layout: { padding: spark ? 2 : 0 },
        scales: {
          x: {
            ...xScale,
            display: !spark,
            stacked: !!spec.stacked,
            grid: { color: gridColor(), display: !bars },
            ticks: { ...(xScale.ticks || {}), color: textColor() },
            title: { display: !!spec.x.label && !spark, text: spec.x.label, color: textColor() },
          },
          y: {
            display: !spark,
            stacked: !!spec.stacked,
            min: spec.y.min ?? undefined,
            max: spec.y.max ?? undefined,
            beginAtZero: spec.y.min === 0,
            grid: { color: gridColor() },
            ticks: { color: textColor(), callback: (value) => number(value, spec.unit), maxTicksLimit: 6 },
            title: { display: !!spec.y.label && !spark, text: spec.y.label, color: textColor() },
          },
        },
        plugins: {
          legend: { display: !spark && spec.series.length > 1, labels: { color: textColor(), boxWidth: 12 } },
          title: { display: !!spec.title, text: spec.title, color: textColor() },
          lookoutMarkers: { markers: spec.markers || [] },
          tooltip: {
            callbacks: {
              title: (items) => {
                if (!items.length) return "";
                const raw = items[0].raw;
                if (spec.x.kind === "category") return items[0].label;
                return tooltipTime.format(new Date(raw.x));
              },
              label: (item) => {
                const value = spec.x.kind === "category" ? item.raw : item.raw.y;
                return `${item.dataset.label}: ${number(value, spec.unit)}`;
              },
            },
          },
        },
      },
    });
    figure.dataset.drawn = "1";
    figure.lookoutChart = chart;
  };

  const renderAll = (root) => {
    if (typeof Chart === "undefined") return;
    for (const figure of (root || document).querySelectorAll("figure[data-lookout-chart]")) {
      try {
        render(figure);
      } catch (error) {
        // A broken spec must not take the other charts of the page with it; say so where it was.
        figure.textContent = "This chart could not be drawn.";
        console.warn("lookout chart", error);
      }
    }
  };

  window.lookoutCharts = { renderAll };
  document.addEventListener("DOMContentLoaded", () => renderAll(document));
  // Charts in content swapped in by htmx (unfold's tabs, filters).
  document.addEventListener("htmx:afterSwap", (event) => renderAll(event.target));
})();
