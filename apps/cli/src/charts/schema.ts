/** The vega-lite schema every chart of the command names (`$schema`). */
export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
