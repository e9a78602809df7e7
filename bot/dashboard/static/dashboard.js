/* Draws the page's charts with the bot's own copy of ECharts (canvas renderer). */
(function () {
  "use strict";
  var node = document.getElementById("charts");
  if (!node || !window.echarts) { return; }
  var data = JSON.parse(node.textContent);
  var charts = [];
  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(Object.assign({ animation: false }, option));
    el.setAttribute("data-rendered", "1");
    charts.push(chart);
  }
  function pie(id, items) {
    draw(id, { tooltip: { trigger: "item" }, legend: { bottom: 0, type: "scroll" },
      series: [{ type: "pie", radius: ["35%", "65%"], data: items, label: { formatter: "{b}\n{c}" } }] });
  }
  function bars(id, labels, series, horizontal) {
    var cat = { type: "category", data: labels }, val = { type: "value", minInterval: 1 };
    draw(id, { tooltip: { trigger: "axis" }, legend: { bottom: 0 }, grid: { left: 50, right: 20, top: 20, bottom: 50 },
      xAxis: horizontal ? val : cat, yAxis: horizontal ? cat : val, series: series });
  }
  var page = document.body.getAttribute("data-page");
  if (page === "overview") {
    pie("chart-category", data.category);
    bars("chart-buckets", data.buckets.labels, [{ type: "bar", name: "件数", data: data.buckets.values }]);
    bars("chart-trend", data.trend.map(function (w) { return w.week.slice(5); }), [
      { type: "line", name: "收到", data: data.trend.map(function (w) { return w.received; }) },
      { type: "line", name: "其中已办结", data: data.trend.map(function (w) { return w.resolved; }) }]);
  } else if (page === "members") {
    bars("chart-members", data.names, [{ type: "bar", name: "综合得分", data: data.totals },
      { type: "bar", name: "积分", data: data.points }]);
  } else if (page === "opinion") {
    pie("chart-sentiment", data.sentiment);
    var topics = data.topics.slice().reverse();          // the hottest at the top
    bars("chart-topics", topics.map(function (t) { return t.name; }),
      [{ type: "bar", name: "居民数", data: topics.map(function (t) { return t.value; }) }], true);
  } else if (page === "forecast") {
    bars("chart-forecast", data.categories, [{ type: "bar", name: "上周", data: data.last_week },
      { type: "bar", name: "下周预测", data: data.next_week }]);
  } else if (page === "weights") {
    bars("chart-weights", data.parts, [{ type: "bar", name: "固定", data: data.base },
      { type: "bar", name: "调整后", data: data.dynamic }]);
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
