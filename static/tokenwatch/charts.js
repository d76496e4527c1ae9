/* Draw every server-built Plotly figure on the page, and keep filter URLs short.
 * Figures arrive as JSON in <script type="application/json" id="fig-…"> next to their
 * <div class="plot" data-figure="fig-…">. No inline scripts, no CDN. */
(function () {
  "use strict";
  var config = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
    toImageButtonOptions: { format: "png", scale: 2 }
  };

  // A phone-sized chart takes the layout its builder gave for narrow screens (charts.narrow_layout): a
  // compact legend below the plot, shorter axis titles. Keys are Plotly attribute paths ("legend.y").
  var NARROW_PX = 600;
  function narrow(el, layout) {
    var changes = layout && layout.meta && layout.meta.narrow;
    if (!changes || el.clientWidth >= NARROW_PX) { return; }
    Object.keys(changes).forEach(function (path) {
      var parts = path.split("."), target = layout;
      for (var i = 0; i < parts.length - 1; i++) {
        if (typeof target[parts[i]] !== "object" || target[parts[i]] === null) { target[parts[i]] = {}; }
        target = target[parts[i]];
      }
      target[parts[parts.length - 1]] = changes[path];
    });
    el.setAttribute("data-narrow", "true");
  }

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-figure"));
    if (!source || !window.Plotly) { return Promise.resolve(); }
    var figure = JSON.parse(source.textContent);
    narrow(el, figure.layout);
    var options = Object.assign({}, config, {
      toImageButtonOptions: Object.assign({}, config.toImageButtonOptions, { filename: "tokenwatch-" + el.id })
    });
    return window.Plotly.newPlot(el, figure.data, figure.layout, options).then(function () {
      el.setAttribute("data-drawn", "true");
      // bench/first_chart.py reads this mark: time from navigation to the first chart drawn.
      if (window.performance && performance.mark && !performance.getEntriesByName("first-chart").length) {
        performance.mark("first-chart");
      }
    });
  }

  // One chart at a time, top first, each in its own task: the first chart is on screen (and the browser can
  // paint it) before the others are built, instead of all of them appearing together at the end.
  var plots = Array.prototype.slice.call(document.querySelectorAll(".plot[data-figure]"));
  function drawFrom(i) {
    if (i >= plots.length) { return; }
    var next = function () { window.setTimeout(function () { drawFrom(i + 1); }, 0); };
    draw(plots[i]).then(next, next);
  }
  drawFrom(0);

  // Submit only the filters that are set, so the URL someone bookmarks or shares says just what was chosen.
  document.querySelectorAll("form[data-filters]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var fields = Array.prototype.slice.call(form.elements);
      if (form.id) {
        fields = fields.concat(Array.prototype.slice.call(document.querySelectorAll("[form='" + form.id + "']")));
      }
      fields.forEach(function (field) {
        if (field.name && !field.disabled && field.tagName !== "BUTTON" && field.type !== "checkbox" &&
            field.type !== "radio" && !field.multiple && field.value === "") {
          field.disabled = true;
          window.setTimeout(function () { field.disabled = false; }, 0);
        }
      });
    });
  });
})();
