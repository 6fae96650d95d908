// The types of uPlot's ESM build, which scripts/build-web.mjs copies to dist/web/vendor/uPlot.esm.js.
export { default } from 'uplot'
