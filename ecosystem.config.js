// PM2 process file for copilot-bridge: `pm2 start ecosystem.config.js` (or ./start.sh).
// Paths come from __dirname, so the checkout can live anywhere. The server loads .env itself
// (python-dotenv); the environment of the shell that runs `pm2 start` is passed through too.
'use strict';

const path = require('path');

const root = __dirname;
// BRIDGE_PYTHON_MODULE overrides the module run with `python -m` (default: server).
const pythonModule = process.env.BRIDGE_PYTHON_MODULE || 'server';
const logDir = process.env.BRIDGE_LOG_DIR || path.join(root, 'logs');

module.exports = {
  apps: [
    {
      name: 'copilot-bridge',
      script: path.join(root, '.venv', 'bin', 'python'),
      args: ['-m', pythonModule],
      interpreter: 'none',
      cwd: root,
      exec_mode: 'fork',
      instances: 1,
      autorestart: true,
      // A crash loop backs off instead of spinning; a run of 10 s counts as a good start.
      min_uptime: 10000,
      max_restarts: 20,
      exp_backoff_restart_delay: 200,
      // SIGTERM like systemd; the server drains and stops its CLIs, then PM2 kills after 15 s.
      kill_signal: 'SIGTERM',
      kill_timeout: 15000,
      env: {
        PYTHONUNBUFFERED: '1',
      },
      out_file: path.join(logDir, 'pm2-out.log'),
      error_file: path.join(logDir, 'pm2-error.log'),
      merge_logs: true,
      time: true,
    },
  ],
};
