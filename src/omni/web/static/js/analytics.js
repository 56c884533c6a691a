// Draws each analysis chart on the analytics page from its /v1/analytics JSON with Apache ECharts.
// The page names each chart's data URL in data-src; nothing is computed here but display units.
(function () {
  "use strict";

  var words = {};
  var wordBox = document.getElementById("chart-words");
  var currency = wordBox ? wordBox.dataset.currency : "TWD";
  if (wordBox) {
    wordBox.querySelectorAll("[data-word]").forEach(function (el) {
      words[el.dataset.word] = el.textContent;
    });
  }
  var lang = document.documentElement.lang || "en";
  var money = new Intl.NumberFormat(lang, { style: "currency", currency: currency, maximumFractionDigits: 0 });
  var percent = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });

  function t(word) { return words[word] || word; }
  function col(data, name) { return data.columns.indexOf(name); }
  function pick(data, name) {
    var i = col(data, name);
    return data.rows.map(function (row) { return row[i]; });
  }
  function major(minor) { return minor / 100; }
  // ECharts' HTML tooltips would set inline styles, which the page's CSP forbids; rich text draws on the canvas.
  var tooltip = { trigger: "axis", renderMode: "richText" };

  function funnel(data) {
    var groups = [];
    data.rows.forEach(function (row) { if (groups.indexOf(row[0]) < 0) { groups.push(row[0]); } });
    var shown = groups.length > 1 ? groups.filter(function (g) { return g !== "all"; }) : groups;
    var steps = data.steps.map(function (s) { return s.index + ". " + s.event + (s.optional ? " (?)" : ""); });
    return {
      tooltip: tooltip,
      legend: { top: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 60 },
      xAxis: { type: "category", data: steps, axisLabel: { interval: 0, width: 120, overflow: "break" } },
      yAxis: { type: "value", name: t("people") },
      series: shown.map(function (group) {
        var rows = data.rows.filter(function (row) { return row[0] === group; });
        return {
          name: group === "all" ? t("people") : t(group),
          type: "bar",
          data: rows.map(function (row) { return row[3]; }),
          label: {
            show: true,
            position: "top",
            formatter: function (p) { return percent.format(rows[p.dataIndex][4]); }
          }
        };
      })
    };
  }

  function omnichannel(data) {
    var groups = pick(data, "group").map(t);
    var measures = [
      [t("Spend per customer"), pick(data, "spend_per_customer_minor").map(major), function (v) { return money.format(v); }],
      [t("Orders per customer"), pick(data, "orders_per_customer"), function (v) { return v; }],
      [t("6-month repeat rate"), pick(data, "repeat_rate_6m"), function (v) { return percent.format(v); }]
    ];
    var option = { tooltip: { renderMode: "richText" }, title: [], grid: [], xAxis: [], yAxis: [], series: [] };
    measures.forEach(function (m, i) {
      var left = (3 + i * 33) + "%";
      option.title.push({ text: m[0], left: left, top: 0, textStyle: { fontSize: 13 } });
      option.grid.push({ left: left, width: "27%", top: 40, bottom: 30, containLabel: true });
      option.xAxis.push({ type: "category", data: groups, gridIndex: i });
      option.yAxis.push({ type: "value", gridIndex: i });
      option.series.push({
        type: "bar", xAxisIndex: i, yAxisIndex: i, data: m[1],
        label: { show: true, position: "top", formatter: function (p) { return m[2](p.value); } }
      });
    });
    return option;
  }

  function retention(data) {
    var cohorts = pick(data, "cohort").map(t);
    var months = data.columns.slice(2);
    var cells = [];
    data.rows.forEach(function (row, y) {
      months.forEach(function (_, x) { cells.push([x, y, row[1] ? row[2 + x] / row[1] : 0]); });
    });
    return {
      tooltip: { renderMode: "richText", formatter: function (p) { return percent.format(p.value[2]); } },
      grid: { left: 90, right: 20, top: 10, bottom: 70 },
      xAxis: { type: "category", data: months.map(function (m) { return t("month {n}").replace("{n}", m.split("_")[1]); }) },
      yAxis: { type: "category", data: cohorts, inverse: true },
      visualMap: { min: 0, max: 1, orient: "horizontal", left: "center", bottom: 0, calculable: false },
      series: [{
        type: "heatmap", data: cells,
        label: { show: true, formatter: function (p) { return percent.format(p.value[2]); } }
      }]
    };
  }

  function top(data) {
    var names = pick(data, "name").reverse();
    return {
      tooltip: tooltip,
      grid: { left: 140, right: 40, top: 10, bottom: 30 },
      xAxis: { type: "value", axisLabel: { formatter: function (v) { return money.format(v); } } },
      yAxis: { type: "category", data: names, axisLabel: { width: 130, overflow: "truncate" } },
      series: [{ name: t("revenue"), type: "bar", data: pick(data, "revenue_minor").map(major).reverse() }]
    };
  }

  function heatmap(data) {
    var days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    var cells = data.rows.map(function (row) { return [row[1], days.indexOf(row[0]), row[2]]; });
    var most = Math.max.apply(null, pick(data, "orders"));
    return {
      tooltip: { renderMode: "richText" },
      grid: { left: 60, right: 20, top: 10, bottom: 70 },
      xAxis: { type: "category", data: Array.from({ length: 24 }, function (_, h) { return String(h); }) },
      yAxis: { type: "category", data: days.map(t), inverse: true },
      visualMap: { min: 0, max: Math.max(most, 1), orient: "horizontal", left: "center", bottom: 0 },
      series: [{ name: t("orders"), type: "heatmap", data: cells }]
    };
  }

  function baskets(data) {
    return {
      tooltip: tooltip,
      legend: { top: 0 },
      grid: { left: 80, right: 60, top: 40, bottom: 30 },
      xAxis: { type: "category", data: pick(data, "channel").map(t) },
      yAxis: [
        { type: "value", name: t("Average order value"), axisLabel: { formatter: function (v) { return money.format(v); } } },
        { type: "value", name: t("Basket size") }
      ],
      series: [
        { name: t("Average order value"), type: "bar", data: pick(data, "aov_minor").map(major) },
        { name: t("Basket size"), type: "line", yAxisIndex: 1, data: pick(data, "basket_size") }
      ]
    };
  }

  function reachability(data) {
    var statuses = ["reachable", "not_asked", "opted_out", "no_address"];
    var people = pick(data, "people");
    return {
      tooltip: tooltip,
      legend: { top: 0 },
      grid: { left: 80, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "value", max: 1, axisLabel: { formatter: function (v) { return percent.format(v); } } },
      yAxis: { type: "category", data: pick(data, "channel").map(t) },
      series: statuses.map(function (s) {
        return {
          name: t(s), type: "bar", stack: "people",
          data: pick(data, s).map(function (n, i) { return people[i] ? n / people[i] : 0; })
        };
      })
    };
  }

  function frequency(data) {
    return {
      tooltip: tooltip,
      legend: { top: 0 },
      grid: { left: 70, right: 60, top: 40, bottom: 30 },
      xAxis: { type: "category", data: pick(data, "messages_per_week") },
      yAxis: [
        { type: "value", name: t("person_weeks") },
        { type: "value", name: t("engagement_rate"), max: 1,
          axisLabel: { formatter: function (v) { return percent.format(v); } } }
      ],
      series: [
        { name: t("person_weeks"), type: "bar", data: pick(data, "person_weeks") },
        { name: t("engagement_rate"), type: "line", yAxisIndex: 1, data: pick(data, "engagement_rate") }
      ]
    };
  }

  function label(name) {
    var parts = name.split(/[·:]/);
    return name.indexOf("purchase:") === 0 ? "✓ " + t(parts[1]) : parts[0] + ". " + t(parts[1]);
  }

  function paths(data) {
    return {
      tooltip: { renderMode: "richText" },
      series: [{
        type: "sankey",
        left: 10, right: 120, top: 10, bottom: 10,
        emphasis: { focus: "adjacency" },
        nodeAlign: "right",
        data: data.nodes.map(function (n) { return { name: n.name }; }),
        links: data.links,
        label: { formatter: function (p) { return label(p.name); } }
      }]
    };
  }

  var drawings = {
    funnel: funnel,
    omnichannel: omnichannel,
    retention: retention,
    "retention-channel": retention,
    "top-products": top,
    "top-categories": top,
    heatmap: heatmap,
    baskets: baskets,
    reachability: reachability,
    frequency: frequency,
    paths: paths
  };

  function draw(box) {
    var section = box.closest(".analysis");
    var empty = section.querySelector(".empty");
    fetch(box.dataset.src, { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (answer) {
        if (!answer.ok) { throw new Error(box.dataset.src + " answered " + answer.status); }
        return answer.json();
      })
      .then(function (data) {
        if (data.empty) {
          box.classList.add("is-empty");
          empty.hidden = false;
          box.dataset.state = "empty";
          return;
        }
        var chart = echarts.init(box, null, { renderer: "canvas" });
        // Before setOption: a chart without animation finishes while setOption runs.
        chart.on("finished", function () { box.dataset.state = "drawn"; });
        chart.setOption(drawings[box.dataset.chart](data));
        window.addEventListener("resize", function () { chart.resize(); });
      })
      .catch(function (error) {
        box.dataset.state = "failed";
        console.error(error);
      });
  }

  document.querySelectorAll(".analysis .chart[data-src]").forEach(draw);
})();
