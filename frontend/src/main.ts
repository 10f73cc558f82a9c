// First: make the locale valid before any library formats with it.
import './platform/locale';
import { mount } from 'svelte';
import App from './App.svelte';
import './styles.css';

mount(App, { target: document.getElementById('app')! });
