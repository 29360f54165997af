{
  "targets": [
    {
      "target_name": "timerfd",
      "sources": ["timerfd.c"],
      "cflags": ["-Wall", "-Wextra"]
    }
  ]
}
