import 'uplot/dist/uPlot.min.css'
import '../style.css'
import { render } from 'preact'
import { Explorer } from './explorer.js'
import { App } from './ui/app.js'

// The explorer's entry (web/index.html loads it; Vite bundles it): Preact
// renders the page into <body>, then the App starts the controller.

render(<App explorer={new Explorer()} />, document.body)
