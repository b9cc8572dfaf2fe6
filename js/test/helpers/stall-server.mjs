// A server that takes requests and then stalls, to check that the component's
// own deadline (DISCORD_TIMEOUT_MS) ends the call. Modes:
//   silent   - reads the request, never answers;
//   headers  - sends a 200 head promising 100 bytes and 8 of them, then stalls;
//   trickle  - sends a 200 head promising 100000 bytes, then one byte every 200 ms
//              (no between-bytes timeout can fire; only a whole-call deadline ends it).
import net from 'node:net';

const mode = process.argv[2] ?? 'silent';
const sockets = new Set();
const server = net.createServer((socket) => {
  sockets.add(socket);
  socket.on('error', () => {});
  socket.on('close', () => {
    clearInterval(socket.trickle);
    sockets.delete(socket);
  });
  socket.once('data', () => {
    if (mode === 'headers') {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"url": ');
    } else if (mode === 'trickle') {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"url": "');
      socket.trickle = setInterval(() => socket.write('x'), 200);
    }
  });
});
server.listen(0, '127.0.0.1', () => console.log(`PORT=${server.address().port}`));
process.on('SIGINT', () => {
  for (const socket of sockets) socket.destroy();
  server.close(() => process.exit(0));
});
