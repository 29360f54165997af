module.exports = require('../../jest.config.base')({ testTimeout: 60000 }); // ptys and child processes
