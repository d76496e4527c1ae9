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

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-figure"));
    if (!source || !window.Plotly) { return; }
    var figure = JSON.parse(source.textContent);
    var options = Object.assign({}, config, {
      toImageButtonOptions: Object.assign({}, config.toImageButtonOptions, { filename: "tokenwatch-" + el.id })
    });
    window.Plotly.newPlot(el, figure.data, figure.layout, options).then(function () {
      el.setAttribute("data-drawn", "true");
    });
  }

  document.querySelectorAll(".plot[data-figure]").forEach(draw);

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
