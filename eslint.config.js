import neostandard from 'neostandard'

// neostandard: the "standard" style (used by fastify and pino) as an ESLint
// flat config, with typescript-eslint for the .ts files.
export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'bench/results/**', 'node_modules/**'] }),
  {
    rules: {
      // Meant for Node-style callbacks, which this code base has none of; it
      // misfires on any parameter named `error`.
      'n/handle-callback-err': 'off'
    }
  }
]
