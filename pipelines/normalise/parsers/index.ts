/** The domain parsers: pure functions from source text to canonical values. */
export * from './result';
export * from './text';
export * from './decimal';
export * from './keyed-hash';
export * from './parse-uscc';
export * from './parse-id-number';
export * from './parse-phone';
export * from './mask-text';
export * from './parse-date';
export * from './parse-money';
export * from './parse-quantity';
export * from './regions-jiuquan';
export * from './parse-region';
export * from './map-enum';
