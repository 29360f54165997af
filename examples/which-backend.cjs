// Prints the backend @socketpoll/core picks on this machine, loaded with require().
const { SocketPoll } = require('@socketpoll/core');
const poll = new SocketPoll();
console.log(poll.backendName);
poll.close();
