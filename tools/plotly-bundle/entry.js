'use strict';

// plotly.js with the trace types apps/dashboard/charts.py builds and nothing else: scatter (plotly.js's core
// always registers it) and bar. The core keeps every layout component (legend, hover, annotations, shapes,
// modebar, ...), so zoom, hover and legends work as with the released bundles. No pie, no world calendars.
var Plotly = require('plotly.js/lib/core');

Plotly.register([require('plotly.js/lib/bar')]);

module.exports = Plotly;
