// Prints the backend @socketpoll/core picks on this machine, loaded with import().
const { SocketPoll } = await import('@socketpoll/core');
const poll = new SocketPoll();
console.log(poll.backendName);
poll.close();
