# flask: one JSON route. (Not named flask.py: the script's folder is on
# sys.path and would shadow the flask package.)
from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/json")
def json_route():
    return jsonify(message="Hello, World!", items=[1, 2, 3], ok=True)


application = app
