module.exports = require('../../jest.config.base')({ testMatch: ['<rootDir>/test/unit/**/*.test.ts'] });
