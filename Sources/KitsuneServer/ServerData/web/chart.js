"use strict";
// Events over time as an SVG bar chart (one bar per hour), and horizontal bars for top-N lists.
(function (K) {
  var NS = "http://www.w3.org/2000/svg";
  function s(tag, attrs) {
    var el = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, String(attrs[k])); });
    return el;
  }

  // buckets: [{key: the hour as RFC 3339 (the API's group_by=hour), count}], over `hours` hours to now.
  K.hourChart = function (buckets, hours, onPick) {
    var nowHour = Math.floor(Date.now() / 3600000);
    var counts = new Map();
    buckets.forEach(function (b) { counts.set(Math.floor(Date.parse(b.key) / 3600000), b.count); });
    var series = [];
    for (var h = nowHour - hours + 1; h <= nowHour; h++) series.push({ hour: h, count: counts.get(h) || 0 });
    var max = Math.max.apply(null, series.map(function (x) { return x.count; }).concat([1]));
    var W = 960, H = 200, left = 44, bottom = 22, top = 8;
    var bw = (W - left) / series.length;
    var svg = s("svg", { viewBox: "0 0 " + W + " " + H, class: "chart", role: "img", preserveAspectRatio: "none" });
    var title = s("title");
    var total = series.reduce(function (a, x) { return a + x.count; }, 0);
    title.textContent = total + " events in the last " + hours + " hours, at most " + max + " in one hour";
    svg.appendChild(title);
    [0, 0.5, 1].forEach(function (f) {
      var y = top + (H - top - bottom) * (1 - f);
      svg.appendChild(s("line", { x1: left, x2: W, y1: y, y2: y, class: "axis", "stroke-dasharray": f ? "2,3" : "" }));
      var t = s("text", { x: left - 4, y: y + 3, "text-anchor": "end" });
      t.textContent = String(Math.round(max * f));
      svg.appendChild(t);
    });
    series.forEach(function (x, i) {
      var hgt = (H - top - bottom) * x.count / max;
      var r = s("rect", { x: left + i * bw + 1, y: H - bottom - hgt, width: Math.max(1, bw - 2), height: Math.max(0, hgt), class: "b" });
      var tip = s("title");
      tip.textContent = K.time(new Date(x.hour * 3600000).toISOString()).slice(0, 16) + ": " + x.count + " events";
      r.appendChild(tip);
      if (onPick && x.count) { r.addEventListener("click", function () { onPick(x.hour); }); r.setAttribute("tabindex", "0"); }
      svg.appendChild(r);
      if (i % 6 === 0) {
        var label = s("text", { x: left + i * bw, y: H - 6 });
        var d = new Date(x.hour * 3600000);
        label.textContent = (K.utc ? String(d.getUTCHours()).padStart(2, "0") : String(d.getHours()).padStart(2, "0")) + ":00";
        svg.appendChild(label);
      }
    });
    return svg;
  };

  // items: [{key, count}]; link(key) → a dashboard URL for that bucket.
  K.bars = function (items, link) {
    if (!items.length) return K.empty("Nothing in this period.");
    var max = Math.max.apply(null, items.map(function (x) { return x.count; }).concat([1]));
    return K.h("div.bars", items.map(function (x) {
      var fill = K.h("span.fill");
      fill.style.width = Math.max(1, Math.round(100 * x.count / max)) + "%";
      var label = x.key === null || x.key === undefined ? K.h("span.muted", "(none)") : link ? K.link(x.key, link.path, link.params(x.key)) : K.h("span", { text: x.key, max: 120 });
      return K.h("div.bar", K.h("span.label", { title: x.key === null ? "" : String(x.key).slice(0, 300) }, label), K.h("span.track", fill), K.h("span.count", String(x.count)));
    }));
  };
})(window.K);
