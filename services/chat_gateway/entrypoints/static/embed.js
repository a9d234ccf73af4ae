// Embed the chat widget on any page: <script src="https://chat.example.com/embed.js" async></script>
(function () {
  var origin = new URL(document.currentScript.src).origin;
  var frame = document.createElement("iframe");
  frame.src = origin + "/widget";
  frame.title = "Chat with us";
  frame.style.cssText = "position:fixed;right:16px;bottom:16px;width:380px;height:560px;border:0;" +
    "border-radius:12px;box-shadow:0 6px 24px rgba(0,0,0,.25);z-index:2147483000;background:#fff";
  document.body.appendChild(frame);
})();
